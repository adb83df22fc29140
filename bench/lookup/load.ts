/**
 * The lookup bench's load generator: a child process (forked by `run.js`) that receives one
 * `LookupRequest` over IPC, sends `GET …/profiles/lookup` requests for random existing people
 * (email, user id or anonymous id in turn) at a fixed overall rate with autocannon, and replies
 * with the warm-up and measured phases.
 *
 * Sending, pacing (evenly spread, not autocannon's once-a-second bursts) and the figures are
 * shared with the personalize bench: ../common/fixed-rate-load.ts. Requests are pre-built byte
 * buffers (no per-request `setupRequest`), so the generator costs little CPU on a 2-core machine.
 */
import { serveFixedRateLoad } from '../common/fixed-rate-load.js';
import { random } from '../profiles/population.js';
import { LOOKUP_TYPES, identifierOf, lookupPath, lookupPerson, type LookupLoadConfig } from './protocol.js';

/** Pre-built requests cycled through (random people, types in turn). */
const REQUEST_POOL = 65_536;

function buildRequests(cfg: LookupLoadConfig): Buffer[] {
  const host = new URL(cfg.origin).host;
  const rand = random(cfg.seed * 7919 + 11);
  const out: Buffer[] = [];
  for (let i = 0; i < REQUEST_POOL; i++) {
    const person = lookupPerson(Math.floor(rand() * cfg.people), cfg.seed);
    const type = LOOKUP_TYPES[i % LOOKUP_TYPES.length] as (typeof LOOKUP_TYPES)[number];
    const path = lookupPath(cfg.workspaceId, type, identifierOf(person, type));
    out.push(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${cfg.token}\r\nUser-Agent: ensemble-bench/1 (autocannon)\r\nConnection: keep-alive\r\n\r\n`));
  }
  return out;
}

serveFixedRateLoad(buildRequests);
