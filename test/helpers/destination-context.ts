/**
 * A connector's `ctx` for tests: real fetch with a timeout, logs collected as text (to check that
 * nothing secret or personal is in them), a store backed by a Map, SMTP refused unless given.
 */
import type { DestinationContext, SmtpMessage, SmtpOptions } from '../../src/protocol/destination.js';

export interface TestContextOptions {
  store?: Map<string, string>;
  logs?: string[];
  now?: () => number;
  fetch?: typeof fetch;
  smtp?: (options: SmtpOptions, message: SmtpMessage) => Promise<{ messageId: string; response: string }>;
}

export function testContext<C>(config: C, opts: TestContextOptions = {}): DestinationContext<C> & { logs: string[] } {
  const logs = opts.logs ?? [];
  const store = opts.store ?? new Map<string, string>();
  const line = (level: string) => (fields: Record<string, unknown>, message: string) => { logs.push(`${level} ${message} ${JSON.stringify(fields)}`); };
  return {
    workspaceId: 'ws_test', destinationId: 'dst_test', config, logs,
    fetch: opts.fetch ?? ((url, init) => fetch(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(5000) })),
    smtp: opts.smtp ?? (async () => { throw new Error('this test gives the connector no SMTP relay'); }),
    log: { info: line('info'), warn: line('warn'), error: line('error') },
    now: opts.now ?? (() => Date.now()),
    store: { get: async (k) => store.get(k) ?? null, set: async (k, v) => { store.set(k, v); } },
  };
}
