/**
 * The contract every connector runs (one line per connector, in its own test file): against a
 * local stand-in of its platform that checks the documented request format, a connector must
 * give one outcome per item, map 429/5xx to retries honouring Retry-After, 4xx to drops and
 * network failures to retries, keep secrets out of logs, outcomes and URLs, make replays safe
 * (idempotency keys, or naturally idempotent requests), and — through the engine's admission —
 * never receive items without the destination's purpose or sensitive segments it may not have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import type { DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest, SmtpMessage, SmtpOptions } from '../../src/protocol/destination.js';
import { admit, type AdmissionFacts } from '../../src/activate/admission.js';
import { startPlatform, type PlatformAnswer, type PlatformServer, type RecordedRequest } from '../helpers/platform-server.js';
import { testContext } from '../helpers/destination-context.js';

export interface ContractCase<C> {
  manifest: DestinationManifest<C>;
  /** An instance config whose endpoints point at the stand-in (its base URL). */
  config(baseUrl: string): C;
  /** Items the connector accepts (the suite sends them as one batch). */
  items(): DeliveryItem[];
  /** The platform's documented format: null when the request is valid, else what is wrong. */
  validate(req: RecordedRequest): string | null;
  /** The platform's answer to a valid request (default 200 `{}`). */
  respond?(req: RecordedRequest): PlatformAnswer;
  /**
   * Where a request carries the idempotency key of its items ('natural' when the platform's
   * operation is idempotent by itself, e.g. adding a member twice: then replays must be identical).
   */
  idempotency: ((req: RecordedRequest) => string[]) | 'natural';
  /** Connectors that speak SMTP get this instead of fetch (a mail case). */
  smtp?(options: SmtpOptions, message: SmtpMessage): Promise<{ messageId: string; response: string }>;
}

interface Run {
  outcomes: DeliveryOutcome[];
  logs: string[];
}

function context<C>(c: ContractCase<C>, config: C, logs: string[], store: Map<string, string>): DestinationContext<C> {
  return testContext(config, { logs, store, ...(c.smtp ? { smtp: c.smtp } : {}) });
}

/** Registers the contract tests of one connector. */
export function destinationContract<C>(c: ContractCase<C>): void {
  const m = c.manifest;
  const run = async (platform: PlatformServer | null, items = c.items(), config = c.config(platform?.url ?? 'http://127.0.0.1:9')): Promise<Run> => {
    const logs: string[] = [];
    const outcomes = await m.send(items, context(c, config, logs, new Map()));
    return { outcomes, logs };
  };
  const withPlatform = async (answer: ((req: RecordedRequest) => PlatformAnswer) | null, fn: (p: PlatformServer, errors: string[]) => Promise<void>) => {
    const errors: string[] = [];
    const p = await startPlatform((req) => {
      const err = c.validate(req);
      if (err !== null) { errors.push(err); return { status: 400, body: { error: err } }; }
      return answer ? answer(req) : (c.respond?.(req) ?? { status: 200, body: {} });
    });
    try { await fn(p, errors); } finally { await p.close(); }
  };

  test(`${m.id}: the manifest is complete and its example config is valid`, () => {
    assert.match(m.id, /^[a-z][a-z0-9-]{1,40}$/);
    assert.ok(m.name.length > 0 && m.description.length > 0);
    assert.ok(m.kinds.length > 0 && m.identifiers.length > 0 && m.purpose.length > 0);
    assert.ok(Number.isInteger(m.batchSize) && m.batchSize >= 1);
    const config = c.config('http://127.0.0.1:9');
    assert.ok(Value.Check(m.configSchema, config), JSON.stringify([...Value.Errors(m.configSchema, config)].slice(0, 3)));
    const props = (m.configSchema as { properties?: Record<string, unknown> }).properties ?? {};
    for (const s of m.secrets) assert.ok(s in props, `secret ${s} is a config field`);
    for (const item of c.items()) assert.ok(m.kinds.includes(item.kind), `${item.kind} items are accepted`);
  });

  test(`${m.id}: a valid batch is delivered in the platform's documented format, one outcome per item`, async () => {
    await withPlatform(null, async (p, errors) => {
      const items = c.items();
      const { outcomes } = await run(p, items);
      assert.deepEqual(errors, [], 'requests follow the documented format');
      assert.equal(outcomes.length, items.length);
      assert.deepEqual(outcomes.map((o) => o.kind), items.map(() => 'ok'), JSON.stringify(outcomes));
      if (!c.smtp) assert.ok(p.requests.length > 0, 'the platform was called');
    });
  });

  if (c.smtp) return; // the HTTP status mapping below does not apply to an SMTP relay

  test(`${m.id}: 429 and 5xx are retried, honouring Retry-After`, async () => {
    await withPlatform(() => ({ status: 429, headers: { 'retry-after': '7' }, body: { error: 'slow down' } }), async (p) => {
      const { outcomes } = await run(p);
      assert.ok(outcomes.length > 0);
      for (const o of outcomes) assert.deepEqual(o, { kind: 'retry', reason: 'http_429', afterMs: 7000 });
    });
    await withPlatform(() => ({ status: 503, body: 'unavailable' }), async (p) => {
      const { outcomes } = await run(p);
      for (const o of outcomes) assert.equal(o.kind, 'retry', JSON.stringify(o));
    });
  });

  test(`${m.id}: other 4xx are dropped with a reason, network failures retried`, async () => {
    await withPlatform(() => ({ status: 403, body: { error: 'forbidden' } }), async (p) => {
      const { outcomes } = await run(p);
      for (const o of outcomes) assert.equal(o.kind, 'drop', JSON.stringify(o));
    });
    const p = await startPlatform();
    const url = p.url;
    await p.close();
    const { outcomes } = await run(null, c.items(), c.config(url));
    for (const o of outcomes) assert.equal(o.kind, 'retry', JSON.stringify(o));
  });

  test(`${m.id}: secrets never appear in logs, outcomes or URLs`, async () => {
    // The platform echoes the whole request back in an error, as some do.
    await withPlatform((req) => ({ status: 400, body: { echo: req.headers, url: req.url, body: req.body } }), async (p) => {
      const config = c.config(p.url) as Record<string, unknown>;
      const { outcomes, logs } = await run(p, c.items(), config as C);
      const secrets = m.secrets.map((k) => config[k]).filter((v): v is string => typeof v === 'string' && v.length > 0);
      assert.ok(secrets.length === m.secrets.length, 'the example config sets every secret');
      const said = JSON.stringify(outcomes) + logs.join('\n');
      for (const s of secrets) {
        assert.ok(!said.includes(s), 'a secret leaked into a log or an outcome');
        for (const r of p.requests) assert.ok(!r.url.includes(encodeURIComponent(s)) && !r.url.includes(s), 'a secret is in a URL');
      }
    });
  });

  test(`${m.id}: replaying a batch is safe (idempotency)`, async () => {
    await withPlatform(null, async (p) => {
      await run(p);
      const first = p.requests.splice(0);
      await run(p);
      const second = p.requests.splice(0);
      if (c.idempotency === 'natural') {
        assert.deepEqual(second.map((r) => [r.method, r.url, r.body]), first.map((r) => [r.method, r.url, r.body]), 'a replay sends the same requests');
      } else {
        const keysOf = c.idempotency;
        const a = first.flatMap(keysOf);
        assert.ok(a.length > 0, 'requests carry idempotency keys');
        assert.deepEqual(second.flatMap(keysOf), a, 'a replay carries the same keys');
        const items = c.items();
        for (const item of items) assert.ok(a.some((k) => k.includes(item.key)), `item ${item.key} has its key on the wire`);
      }
    });
  });

  test(`${m.id}: the engine admits only items with the destination's purpose and allowed segments`, () => {
    const facts = (granted: boolean, sensitive: boolean): AdmissionFacts => ({
      permitted: (_id, purpose) => granted && purpose === m.purpose,
      restricted: () => false,
      segment: () => ({ sensitive, approved: true }),
    });
    for (const item of c.items()) {
      const a = { kind: item.kind, profileId: item.profileId, ...(item.kind === 'audience' ? { action: item.action, segmentId: item.audience.segmentId } : {}) };
      if (item.kind === 'audience' && item.action === 'remove') {
        assert.equal(admit(a, m, m.purpose, facts(false, true)), null, 'removals always pass');
        continue;
      }
      assert.deepEqual(admit(a, m, m.purpose, facts(false, false)), { kind: 'drop', reason: `consent:${m.purpose}` });
      assert.equal(admit(a, m, m.purpose, facts(true, false)), null);
      if (item.kind === 'audience') {
        assert.deepEqual(admit(a, m, m.purpose, facts(true, true)), m.advertising ? { kind: 'drop', reason: 'sensitive_segment' } : null);
      }
    }
  });
}
