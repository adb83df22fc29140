/**
 * `ensemble privacy ...`: a DPO files and follows rights requests from a terminal. The server
 * owns the store, so these commands talk to it over HTTP with the admin token.
 *
 *   ensemble privacy request --workspace ws_1 --type erasure --identifier email=ada@example.com [--note "ticket 42"]
 *   ensemble privacy status  --workspace ws_1 --id dsr_...
 *   ensemble privacy list    --workspace ws_1
 */
import { parseArgs } from 'node:util';

export const PRIVACY_USAGE = `Usage: ensemble privacy request --workspace <id> --type <access|portability|rectification|erasure|restriction|objection>
                                --identifier <type>=<value> [--purposes a,b] [--traits '{"k":"v"}'] [--lift] [--note <text>]
       ensemble privacy status --workspace <id> --id <request id>
       ensemble privacy list --workspace <id>
  Options: --url <server> (default ENSEMBLE_URL or http://127.0.0.1:8080); the admin token comes from ENSEMBLE_ADMIN_TOKEN.`;

/** Runs the command; returns the exit code. Output: the server's JSON answer on stdout. */
export async function privacyCommand(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: 'string' }, type: { type: 'string' }, identifier: { type: 'string' }, purposes: { type: 'string' },
      traits: { type: 'string' }, lift: { type: 'boolean' }, note: { type: 'string' }, id: { type: 'string' }, url: { type: 'string' },
    },
  });
  const action = positionals[0];
  const token = env.ENSEMBLE_ADMIN_TOKEN;
  const base = (values.url ?? env.ENSEMBLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  if (!values.workspace || !token || (action !== 'request' && action !== 'status' && action !== 'list')) {
    err(token ? PRIVACY_USAGE : `ENSEMBLE_ADMIN_TOKEN is not set.\n${PRIVACY_USAGE}`);
    return 2;
  }
  const path = `/api/workspaces/${encodeURIComponent(values.workspace)}/privacy/requests`;
  let res: Response;
  if (action === 'request') {
    const eq = values.identifier?.indexOf('=') ?? -1;
    if (!values.type || !values.identifier || eq <= 0) {
      err(PRIVACY_USAGE);
      return 2;
    }
    let traits: unknown;
    if (values.traits !== undefined) {
      try {
        traits = JSON.parse(values.traits);
      } catch {
        err('--traits must be a JSON object.');
        return 2;
      }
    }
    const body = {
      type: values.type,
      identifier: { type: values.identifier.slice(0, eq), value: values.identifier.slice(eq + 1) },
      ...(values.purposes ? { purposes: values.purposes.split(',').map((p) => p.trim()).filter(Boolean) } : {}),
      ...(traits !== undefined ? { traits } : {}),
      ...(values.lift ? { lift: true } : {}),
      ...(values.note ? { note: values.note } : {}),
    };
    res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } else if (action === 'status') {
    if (!values.id) {
      err(PRIVACY_USAGE);
      return 2;
    }
    res = await fetch(`${base}${path}/${encodeURIComponent(values.id)}`, { headers: { authorization: `Bearer ${token}` } });
  } else {
    res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  }
  const text = await res.text();
  if (res.ok) {
    out(text);
    return 0;
  }
  err(text);
  return 1;
}
