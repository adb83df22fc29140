/**
 * The personalize bench's load generator: a child process (forked by `run.js`) that receives one
 * config over IPC, sends `GET /v1/personalize?anonymousId=…&writeKey=…` for random existing
 * visitors (with a page `Origin`, as a browser does) at a fixed overall rate, and replies with the
 * warm-up and measured phases. Sending, even pacing and the figures are the lookup bench's
 * (../common/fixed-rate-load.ts); requests are pre-built byte buffers.
 */
import { serveFixedRateLoad } from '../common/fixed-rate-load.js';
import { random } from '../profiles/population.js';
import { PAGE_ORIGIN, personalizePath, personalizePerson, type PersonalizeLoadConfig } from './protocol.js';

/** Pre-built requests cycled through (random visitors). */
const REQUEST_POOL = 65_536;

function buildRequests(cfg: PersonalizeLoadConfig): Buffer[] {
  const host = new URL(cfg.origin).host;
  const rand = random(cfg.seed * 7919 + 13);
  const out: Buffer[] = [];
  for (let i = 0; i < REQUEST_POOL; i++) {
    const person = personalizePerson(Math.floor(rand() * cfg.people), cfg.seed);
    const path = personalizePath(person.anonymousIds[0] as string, cfg.writeKey);
    out.push(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${PAGE_ORIGIN}\r\nAccept: application/json\r\n` +
      `User-Agent: ensemble-bench/1 (autocannon)\r\nConnection: keep-alive\r\n\r\n`));
  }
  return out;
}

serveFixedRateLoad(buildRequests);
