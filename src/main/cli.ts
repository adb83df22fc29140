#!/usr/bin/env node
/**
 * The `ensemble` command. Reads flags and the environment (the only place that does), builds the
 * configuration, and runs the server until SIGTERM/SIGINT.
 *
 *   ensemble start [--port 8080] [--host 127.0.0.1] [--data ./data/ensemble.duckdb] [--demo]
 *   ensemble compact [--data ./data/ensemble.duckdb]     (server stopped: rewrites the store file)
 *   ensemble privacy request|status|list ...             (rights requests, through the running server)
 *   ensemble user add|list|remove ...                    (console users: on the file when stopped, else through the server)
 *
 * Environment: ENSEMBLE_PORT, ENSEMBLE_HOST, ENSEMBLE_DATA, ENSEMBLE_ADMIN_TOKEN, ENSEMBLE_READER_TOKEN,
 * ENSEMBLE_MASTER_KEY, ENSEMBLE_LOG_LEVEL,
 * ENSEMBLE_COOKIE_SECURE (true: the session cookie is always Secure), ENSEMBLE_USER_PASSWORD (for `user add`),
 * ENSEMBLE_TRUST_PROXY, ENSEMBLE_PREPARE_THREADS, ENSEMBLE_IMPORT_DIR (a folder watched for files to import), ENSEMBLE_MASK_CARD_NUMBERS (true/false),
 * ENSEMBLE_FORBIDDEN_PATTERNS (a JSON array of {name, pattern, flags?}), ENSEMBLE_PUBLIC_URL (base of links in
 * messages), ENSEMBLE_SYNC_PARTNERS (a JSON object of partner → user-sync URL with `{callback}`). Flags win over the environment. Logs are JSON on stdout; messages for
 * the person at the terminal (the generated admin token, the demo's ids) go to stderr.
 */
import { parseArgs } from 'node:util';
import { parseConfig } from '../platform/config.js';
import { openEnsemble } from './app.js';
import { DEMO_USERS, setupDemo } from './demo.js';
import { compactStore } from '../storage/duckdb/compact.js';
import { PRIVACY_USAGE, privacyCommand } from './cli-privacy.js';
import { IMPORT_USAGE, importCommand } from './cli-import.js';
import { USER_USAGE, userCommand } from './cli-user.js';

const USAGE = `Usage: ensemble start [--port 8080] [--host 127.0.0.1] [--data ./data/ensemble.duckdb] [--demo]
       ensemble compact [--data ./data/ensemble.duckdb]
${PRIVACY_USAGE.replace('Usage: ', '       ')}
${IMPORT_USAGE.replace('Usage: ', '       ')}
${USER_USAGE.replace('Usage: ', '       ')}`;

/** An environment variable holding JSON; a clear message rather than a stack when it is not. */
function jsonEnv(name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${name} is not valid JSON.`);
  }
}

function say(line = ''): void {
  process.stderr.write(`${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'privacy') return privacyCommand(argv.slice(1), process.env, (t) => process.stdout.write(`${t}\n`), say);
  if (argv[0] === 'import') return importCommand(argv.slice(1), process.env, (t) => process.stdout.write(`${t}\n`), say);
  if (argv[0] === 'user') return userCommand(argv.slice(1), process.env, (t) => process.stdout.write(`${t}\n`), say);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' }, demo: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0] ?? 'start';
  if (values.help || (command !== 'start' && command !== 'compact')) {
    say(USAGE);
    return values.help ? 0 : 2;
  }
  const env = process.env;
  if (command === 'compact') {
    const path = values.data ?? env.ENSEMBLE_DATA ?? './data/ensemble.duckdb';
    const r = await compactStore(path);
    say(`Compacted ${path}: ${r.bytesBefore} → ${r.bytesAfter} bytes.`);
    return 0;
  }
  const config = parseConfig({
    port: values.port ?? env.ENSEMBLE_PORT ?? 8080,
    host: values.host ?? env.ENSEMBLE_HOST ?? '127.0.0.1',
    dataPath: values.data ?? env.ENSEMBLE_DATA ?? './data/ensemble.duckdb',
    ...(env.ENSEMBLE_ADMIN_TOKEN ? { adminToken: env.ENSEMBLE_ADMIN_TOKEN } : {}),
    ...(env.ENSEMBLE_READER_TOKEN ? { readerToken: env.ENSEMBLE_READER_TOKEN } : {}),
    ...(env.ENSEMBLE_MASTER_KEY ? { masterKey: env.ENSEMBLE_MASTER_KEY } : {}),
    logLevel: env.ENSEMBLE_LOG_LEVEL ?? 'info',
    trustProxy: env.ENSEMBLE_TRUST_PROXY === 'true',
    collect: {
      ...(env.ENSEMBLE_PREPARE_THREADS ? { prepareThreads: env.ENSEMBLE_PREPARE_THREADS } : {}),
      ...(env.ENSEMBLE_MASK_CARD_NUMBERS ? { maskCardNumbers: env.ENSEMBLE_MASK_CARD_NUMBERS !== 'false' } : {}),
      ...(env.ENSEMBLE_FORBIDDEN_PATTERNS ? { forbiddenPatterns: jsonEnv('ENSEMBLE_FORBIDDEN_PATTERNS', env.ENSEMBLE_FORBIDDEN_PATTERNS) } : {}),
    },
    ...(env.ENSEMBLE_IMPORT_DIR ? { imports: { watchDir: env.ENSEMBLE_IMPORT_DIR } } : {}),
    ...(env.ENSEMBLE_COOKIE_SECURE ? { auth: { cookieSecure: env.ENSEMBLE_COOKIE_SECURE === 'true' } } : {}),
    activation: {
      ...(env.ENSEMBLE_PUBLIC_URL ? { publicUrl: env.ENSEMBLE_PUBLIC_URL } : {}),
      ...(env.ENSEMBLE_SYNC_PARTNERS ? { syncPartners: jsonEnv('ENSEMBLE_SYNC_PARTNERS', env.ENSEMBLE_SYNC_PARTNERS) } : {}),
    },
  });

  const ensemble = await openEnsemble(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    ensemble.logger.info({ signal }, 'shutting down');
    ensemble.close().then(() => process.exit(0), (err: unknown) => {
      ensemble.logger.error({ err: String(err) }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const address = await ensemble.listen();
  say(`Ensemble is listening on ${address}`);
  if (ensemble.generatedAdminToken) {
    say('');
    say('An admin token was generated. It is shown only this once; store it now:');
    say(`  ENSEMBLE_ADMIN_TOKEN=${ensemble.generatedAdminToken}`);
  }
  // First start without users: an admin to log in to the console with, its password shown once.
  const firstAdmin = await ensemble.auth.users.ensureFirstAdmin();
  if (firstAdmin) {
    say('');
    say('A console admin was created. Its password is shown only this once; change it after logging in:');
    say(`  email: ${firstAdmin.email}   password: ${firstAdmin.password}`);
  }
  if (values.demo) {
    say('');
    say('Loading demo data (an e-commerce site, 5,000 people over 90 days)...');
    const demo = await setupDemo(ensemble);
    say(demo.loaded > 0 ? `Loaded ${demo.loaded} demo events.` : 'Demo data already loaded.');
    say(`  workspace: ${demo.workspace.id} (${demo.workspace.name})`);
    say(`  source:    ${demo.source.id} (${demo.source.name})`);
    say(`  write key: ${demo.source.writeKey}`);
    say('Console users (demo only; open the console and log in as any of them):');
    for (const u of DEMO_USERS) say(`  ${u.email.padEnd(22)} password: ${u.password}`);
    say('');
    const user = demo.sampleUserId ?? 'cust-000001';
    say('Send an event:');
    say(`  curl -u ${demo.source.writeKey}: -H 'content-type: application/json' \\`);
    say(`    -d '{"userId":"${user}","event":"Product Viewed","properties":{"price":19.9}}' ${address}/v1/track`);
    say('Look at a profile:');
    say(`  curl -H "authorization: Bearer $ENSEMBLE_ADMIN_TOKEN" '${address}/api/workspaces/${demo.workspace.id}/profiles/lookup?type=user_id&value=${user}'`);
    say('List the demo segments and their sizes:');
    say(`  curl -H "authorization: Bearer $ENSEMBLE_ADMIN_TOKEN" '${address}/api/workspaces/${demo.workspace.id}/segments'`);
  }
  return -1; // keep running until a signal
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    say(`ensemble: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
