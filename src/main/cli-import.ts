/**
 * `ensemble import`: uploads a file to the RUNNING server (which owns the store) and follows the
 * job until it ends, printing its report (counts and row errors) as JSON.
 *
 *   ensemble import orders.csv --workspace ws_1 --source src_1 --mapping orders.mapping.json [--encoding latin1] [--delimiter ';']
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

export const IMPORT_USAGE = `Usage: ensemble import <file> --workspace <id> --source <id> --mapping <mapping.json>
                       [--format csv|ndjson|parquet] [--delimiter ';'] [--encoding utf-8|latin1] [--no-wait]
  Options: --url <server> (default ENSEMBLE_URL or http://127.0.0.1:8080); the admin token comes from ENSEMBLE_ADMIN_TOKEN.`;

/** The format from the file's extension, when not given. */
export function formatOf(file: string): string {
  if (/\.parquet$/i.test(file)) return 'parquet';
  if (/\.(ndjson|jsonl)$/i.test(file)) return 'ndjson';
  return 'csv';
}

/** Runs the command; returns the exit code (0 done, 1 failed or rows rejected, 2 usage). */
export async function importCommand(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      workspace: { type: 'string' }, source: { type: 'string' }, mapping: { type: 'string' }, format: { type: 'string' },
      delimiter: { type: 'string' }, encoding: { type: 'string' }, url: { type: 'string' }, 'no-wait': { type: 'boolean' },
    },
  });
  const file = positionals[0];
  const token = env.ENSEMBLE_ADMIN_TOKEN;
  if (!file || !values.workspace || !values.source || !values.mapping || !token) {
    err(token ? IMPORT_USAGE : `ENSEMBLE_ADMIN_TOKEN is not set.\n${IMPORT_USAGE}`);
    return 2;
  }
  const base = (values.url ?? env.ENSEMBLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const mapping = await readFile(values.mapping, 'utf8');
  const q = new URLSearchParams({ format: values.format ?? formatOf(file), mapping });
  if (values.delimiter) q.set('delimiter', values.delimiter);
  if (values.encoding) q.set('encoding', values.encoding);
  const path = `/api/workspaces/${encodeURIComponent(values.workspace)}/sources/${encodeURIComponent(values.source)}/imports`;
  const size = (await stat(file)).size;
  // Streamed, never read whole: a file of millions of rows uploads in constant memory.
  const res = await fetch(`${base}${path}?${q}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream, duplex: 'half',
  } as RequestInit);
  let job = await res.json() as { id: string; status: string; rejected: number };
  if (!res.ok) {
    err(JSON.stringify(job));
    return 1;
  }
  while (!values['no-wait'] && (job.status === 'queued' || job.status === 'running')) {
    await new Promise((r) => setTimeout(r, 500));
    const r = await fetch(`${base}${path}/${job.id}`, { headers: { authorization: `Bearer ${token}` } });
    job = await r.json() as typeof job;
  }
  out(JSON.stringify(job, null, 2));
  return job.status === 'failed' || job.rejected > 0 ? 1 : 0;
}
