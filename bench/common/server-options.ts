/**
 * The options every bench that starts a server of its own shares: where its data goes, where
 * results go, and how to look inside the server (CPU profile, node flags, its log). One parser
 * and one help text, so the benches cannot drift apart.
 *
 * @example
 *   const { values } = parseArgs({ args, options: { ...SERVER_OPTIONS, rate: { type: 'string' } } });
 *   const opts = { rate: intFlag('rate', values.rate, 5000, 1), ...serverOptions(values) };
 */
import { tmpdir } from 'node:os';

export const SERVER_OPTIONS = {
  'data-dir': { type: 'string' }, out: { type: 'string' },
  'server-cpu-prof': { type: 'string' }, 'server-node-flags': { type: 'string' }, 'keep-log': { type: 'string' },
} as const;

export const SERVER_OPTIONS_HELP = `  --data-dir <dir>              parent of the temporary DuckDB directory (default os.tmpdir())
  --server-cpu-prof <dir>       write a V8 CPU profile of the server into <dir> (node --cpu-prof)
  --server-node-flags=<flags>   more node flags for the server, space-separated (e.g. =--trace-gc)
  --keep-log <dir>              copy the server's log into <dir> before its temp directory goes
  --out <dir>                   results directory (default bench/results)`;

export interface ServerOptions {
  dataDir: string;
  out: string | null;
  serverCpuProf: string | null;
  serverNodeFlags: string[];
  keepLog: string | null;
}

export function serverOptions(values: { [K in keyof typeof SERVER_OPTIONS]?: string }): ServerOptions {
  return {
    dataDir: values['data-dir'] ?? tmpdir(),
    out: values.out ?? null,
    serverCpuProf: values['server-cpu-prof'] ?? null,
    serverNodeFlags: (values['server-node-flags'] ?? '').split(' ').filter((f) => f !== ''),
    keepLog: values['keep-log'] ?? null,
  };
}

/** The options as a results file records them: paths of this machine are not written, only whether one was given. */
export function recordedServerOptions(o: ServerOptions): Record<keyof ServerOptions, unknown> {
  return {
    dataDir: o.dataDir === tmpdir() ? 'os.tmpdir()' : 'custom', out: o.out === null ? null : 'custom',
    serverCpuProf: o.serverCpuProf === null ? null : 'custom', serverNodeFlags: o.serverNodeFlags, keepLog: o.keepLog === null ? null : 'custom',
  };
}
