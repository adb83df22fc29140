/**
 * Profile memory benchmark (`npm run bench:memory -- [flags]`; see bench/README.md).
 *
 * Builds N profiles in a `ProfileMemory` the way the processor does — identify events parsed
 * from JSON (as read from the log), resolved by the real engine (`IdentityService`) through a
 * `ProfileTx` per batch, traits applied by `touch`/`applyTraits`, the batch applied, new profile
 * keys registered in the `KeyRing`, changed profiles encoded as for the commit — then measures the V8 heap (`heapUsed` after full
 * collections, so node must run with `--expose-gc`) and takes the structures down one by one to
 * attribute it: key ring, identifier index, profiles with their traits.
 *
 * Each person: an anonymous id and a user id, and for most an email (sealed in the identity
 * record, as the engine stores personal identifiers); 20 traits of mixed types from a first
 * identify, then 0–2 later identifies that change a few of them (so trait provenance points at
 * 1–3 events, and most profiles were copied by a later batch's ProfileTx, as in real use).
 *
 * Baseline, in the same run: the same people and trait values in the plainest JS form — one
 * object of trait values per person, one Map from identifier to person — no provenance, no
 * hashing, no keys: what the heap must hold at least.
 */
import { intFlag } from '../profiles/args.js';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { IdentityService } from '../../src/identity/identity-service.js';
import { KeyRing } from '../../src/privacy/key-ring.js';
import { ProfileMemory } from '../../src/profiles/profile-memory.js';
import { ProfileTx } from '../../src/profiles/profile-tx.js';
import { touch } from '../../src/processor/processor.js';
import type { CollectedEvent } from '../../src/protocol/event.js';
import { memoryConfigStore } from '../../src/storage/memory/config-store.js';
import { mix, personOf, traitsOf, type Person } from '../profiles/population.js';
import { fmt, gitState, hasGc, settledMemory, table, writeResults } from '../profiles/output.js';

const WS = 'ws_bench';
const SOURCE = 'src_bench';
const TARGET_BYTES = 1.5 * 1024;

const HELP = `Ensemble profile memory benchmark

Usage: npm run bench:memory -- [flags]
       node --expose-gc --max-old-space-size=8192 dist/bench/memory/run.js [flags]

  --profiles <n>     profiles built                                   (default 200000)
  --full             1,000,000 profiles
  --traits <n>       traits per profile (first identify)              (default 20)
  --email-share <f>  share of people with an email identifier         (default 0.8)
  --batch <n>        events per ProfileTx                             (default 5000)
  --seed <n>         people seed                                      (default 1)
  --out <dir>        results directory                         (default bench/results)
  -h, --help
`;

interface Options {
  profiles: number;
  full: boolean;
  traits: number;
  emailShare: number;
  batch: number;
  seed: number;
  out: string | null;
}

function parse(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' }, full: { type: 'boolean' }, profiles: { type: 'string' }, traits: { type: 'string' },
      'email-share': { type: 'string' }, batch: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
    },
  });
  if (values.help) return null;
  const share = values['email-share'] === undefined ? 0.8 : Number(values['email-share']);
  if (!(share >= 0 && share <= 1)) throw new Error('--email-share is a fraction (0–1)');
  const full = values.full ?? false;
  return {
    full,
    profiles: intFlag('profiles', values.profiles, full ? 1_000_000 : 200_000, 1),
    traits: intFlag('traits', values.traits, 20, 1),
    emailShare: share,
    batch: intFlag('batch', values.batch, 5000, 1),
    seed: intFlag('seed', values.seed, 1, 0),
    out: values.out ?? null,
  };
}

// ---- the people's identify events -------------------------------------------------------------

/** Traits a later identify changes (new values each time). */
const CHANGING = ['plan', 'orders_count', 'lifetime_value', 'loyalty_points', 'last_order_at'];

function eventsOf(p: Person): number {
  return 1 + (mix(p.index, 97) % 3);
}

function hasEmail(p: Person, share: number): boolean {
  return mix(p.index, 101) / 4294967296 < share;
}

/** Identify number `v` of person `p`, as the log holds it (JSON text). */
function identifyJson(p: Person, v: number, opts: Options): string {
  const email = hasEmail(p, opts.emailShare);
  let traits: Record<string, unknown>;
  if (v === 0) {
    // The first identify sends every trait; without an email, one more other trait instead.
    traits = traitsOf(p, 0, opts.traits + (email ? 0 : 1));
    if (!email) delete traits.email;
  } else {
    const all = traitsOf(p, v, 30);
    traits = Object.fromEntries(CHANGING.filter((k) => k in all).map((k) => [k, all[k]]));
  }
  const at = new Date(Date.UTC(2026, 0, 1) + p.index * 1000 + v * 86_400_000).toISOString();
  const e: CollectedEvent = {
    type: 'identify', messageId: `mem-${opts.seed}-${p.index}-${v}`, workspaceId: WS, sourceId: SOURCE,
    anonymousId: p.anonymousIds[0] as string, userId: p.userId, properties: {}, traits,
    context: { library: { name: 'analytics.js', version: '5.2.0' } },
    originalTimestamp: at, timestamp: at, sentAt: null, receivedAt: at, country: null,
  };
  return JSON.stringify(e);
}

/**
 * The order events reach the processor: chunk c of people sends its first identify, chunk c − 1
 * its second, chunk c − 2 its third — so a batch mixes new people and returning ones.
 */
function* eventStream(opts: Options): Generator<string> {
  const chunk = opts.batch;
  const chunks = Math.ceil(opts.profiles / chunk);
  for (let c = 0; c < chunks + 2; c++) {
    for (let v = 0; v < 3; v++) {
      const k = c - v;
      if (k < 0 || k >= chunks) continue;
      for (let i = k * chunk; i < Math.min(opts.profiles, (k + 1) * chunk); i++) {
        const p = personOf(i, { seed: opts.seed });
        if (v < eventsOf(p)) yield identifyJson(p, v, opts);
      }
    }
  }
}

// ---- main -----------------------------------------------------------------------------------

type Heap = ReturnType<typeof settledMemory>;

function delta(a: Heap, b: Heap): { heap: number; external: number } {
  return { heap: b.heapUsed - a.heapUsed, external: b.external - a.external };
}

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!hasGc()) throw new Error('run node with --expose-gc (npm run bench:memory does): heap figures need full collections');
  const say = (s: string) => process.stdout.write(s);
  const startedAt = new Date();
  const git = gitState();
  say(`Ensemble profile memory benchmark — Node ${process.version}; ${fmt.int(opts.profiles)} profiles, ${opts.traits} traits each\n`);

  // ---- Ensemble's structures ----
  const m0 = settledMemory();
  const memory = new ProfileMemory();
  const keys = new KeyRing(randomBytes(32));
  const identity = new IdentityService(memoryConfigStore(), keys, memory);
  const strategyOf = identity.strategyOf(WS);
  let events = 0;
  let seq = 0n;
  const t0 = performance.now();
  let batch: string[] = [];
  const flush = () => {
    const tx = new ProfileTx(memory);
    for (const payload of batch) {
      const e = JSON.parse(payload) as CollectedEvent;
      const at = Date.parse(e.timestamp);
      const { profileId } = identity.resolver.resolve(e, at, tx, ++seq);
      const p = tx.profile(profileId);
      if (p) touch(p, e, at, strategyOf);
    }
    const changes = tx.changes();
    // The processor encodes every changed profile for its commit (personal traits sealed; the
    // seals are remembered per trait value): the rows are dropped here, the remembered seals stay.
    for (const p of changes.profiles) identity.encode(p);
    tx.apply();
    identity.committed(changes.merges, []);
    events += batch.length;
    batch = [];
  };
  let lastSay = performance.now();
  for (const payload of eventStream(opts)) {
    batch.push(payload);
    if (batch.length >= opts.batch) {
      flush();
      if (performance.now() - lastSay > 10_000) {
        lastSay = performance.now();
        say(`  … ${fmt.int(memory.profiles.size)} profiles\n`);
      }
    }
  }
  if (batch.length > 0) flush();
  const buildSec = (performance.now() - t0) / 1000;

  // Counts, before anything is taken down.
  let live = 0;
  let traitCount = 0;
  const messageIds = new Set<string>();
  for (const p of memory.profiles.values()) {
    if (p.mergedInto === null) live++;
    for (const t of Object.values(p.traits)) {
      traitCount++;
      messageIds.add(t.messageId);
    }
  }
  const byType: Record<string, number> = {};
  let sealed = 0;
  for (const r of memory.identities.values()) {
    byType[r.type] = (byType[r.type] ?? 0) + 1;
    if (r.sealed !== null) sealed++;
  }
  const ring = keys as unknown as { wrapped: Map<string, string>; cache: Map<string, Buffer>; pending: Map<string, unknown> };
  const counts = {
    events, profiles: memory.profiles.size, liveProfiles: live, traitsPerProfile: traitCount / memory.profiles.size,
    eventsWritingTraits: messageIds.size, identities: memory.identities.size, identitiesByType: byType, sealedIdentities: sealed,
    wrappedKeys: ring.wrapped.size, cachedDeks: ring.cache.size,
  };
  messageIds.clear();

  const m1 = settledMemory();
  const total = delta(m0, m1);
  say(`  built in ${fmt.s(buildSec)} s from ${fmt.int(events)} identify events; heap +${fmt.bytes(total.heap)}, external +${fmt.bytes(total.external)}\n`);

  // Take it down piece by piece; each step's heap drop is what that structure held on its own
  // (strings shared with what is still alive — profile ids, message ids — go with the last one).
  ring.wrapped.clear();
  ring.cache.clear();
  ring.pending.clear();
  const m2 = settledMemory();
  memory.identities.clear();
  memory.identifiersOf.clear();
  const m3 = settledMemory();
  memory.profiles.clear();
  (memory as unknown as { mergedFrom: Map<string, string[]> }).mergedFrom.clear();
  const m4 = settledMemory();
  const parts = {
    keyRing: delta(m2, m1),
    identityIndex: delta(m3, m2),
    profilesAndTraits: delta(m4, m3),
    rest: delta(m0, m4),
  };

  // ---- baseline: the same content, plainest form ----
  const b0 = settledMemory();
  const people = new Array<Record<string, unknown>>(opts.profiles);
  const index = new Map<string, Record<string, unknown>>();
  let jsonBytes = 0;
  for (const payload of eventStream(opts)) {
    const e = JSON.parse(payload) as CollectedEvent;
    const i = Number(e.messageId.split('-')[2]);
    let p = people[i];
    if (p === undefined) {
      p = {};
      people[i] = p;
      index.set(`user_id\u0000${e.userId}`, p);
      index.set(`anonymous_id\u0000${e.anonymousId}`, p);
      if (typeof e.traits.email === 'string') index.set(`email\u0000${e.traits.email.toLowerCase()}`, p);
    }
    Object.assign(p, e.traits);
  }
  for (const p of people) jsonBytes += JSON.stringify(p).length;
  const b1 = settledMemory();
  const baseline = delta(b0, b1);
  const baselineCount = people.length + index.size;
  if (baselineCount === 0) throw new Error('empty baseline');

  // ---- report ----
  const n = counts.profiles;
  const per = (d: { heap: number; external: number }) => d.heap / n;
  const totalPer = per(total);
  const rows = [
    ['profiles + traits', fmt.bytes(parts.profilesAndTraits.heap), fmt.int(per(parts.profilesAndTraits)), `${fmt.int((parts.profilesAndTraits.heap / total.heap) * 100)} %`, `${fmt.s(counts.traitsPerProfile)} traits/profile, provenance from ${fmt.int(counts.eventsWritingTraits)} events`],
    ['identifier index', fmt.bytes(parts.identityIndex.heap), fmt.int(per(parts.identityIndex)), `${fmt.int((parts.identityIndex.heap / total.heap) * 100)} %`, `${fmt.int(counts.identities)} identifiers (${Object.entries(byType).map(([t, c]) => `${fmt.int(c)} ${t}`).join(', ')}; ${fmt.int(sealed)} sealed)`],
    ['key ring', fmt.bytes(parts.keyRing.heap), fmt.int(per(parts.keyRing)), `${fmt.int((parts.keyRing.heap / total.heap) * 100)} %`, `${fmt.int(counts.wrappedKeys)} wrapped keys, ${fmt.int(counts.cachedDeks)} unwrapped in the LRU (external ${fmt.bytes(parts.keyRing.external)})`],
    ['rest', fmt.bytes(parts.rest.heap), fmt.int(per(parts.rest)), `${fmt.int((parts.rest.heap / total.heap) * 100)} %`, 'what the engine keeps besides (memo of recent lookup hashes, rules)'],
    ['total (Ensemble)', fmt.bytes(total.heap), fmt.int(totalPer), '100 %', `external +${fmt.bytes(total.external)}`],
    ['baseline (values + Map)', fmt.bytes(baseline.heap), fmt.int(per(baseline)), '', `traits as plain values, identifiers in clear → person; JSON of the traits ${fmt.int(jsonBytes / n)} B/person`],
  ];
  say(`\nResults (${fmt.int(n)} profiles; V8 heapUsed after full GCs; bytes/profile = heap ÷ profiles)\n\n`);
  say(`${table(['part', 'heap', 'bytes/profile', 'share', 'notes'], rows, new Set([1, 2, 3]))}\n`);
  const ratio = total.heap / baseline.heap;
  say(`\nEnsemble ÷ baseline: ${fmt.ratio(ratio)}\n`);
  const pass = totalPer <= TARGET_BYTES;
  const targetLine = `${fmt.int(totalPer)} B/profile at ${fmt.int(n)} profiles with ${fmt.s(counts.traitsPerProfile)} traits (baseline ${fmt.int(per(baseline))} B)`;
  say(`\nTarget (informative; the bench never fails on it)\n  ${pass ? '[ PASS ]' : '[ FAIL ]'} ≤ ${fmt.int(TARGET_BYTES)} B per profile at 1M profiles with ~20 traits: ${targetLine}` +
    `${n < 1_000_000 ? ` — measured at ${fmt.int(n)}; --full for 1M` : ''}\n`);

  const file = writeResults('memory', startedAt, git, {
    options: { ...opts, out: opts.out === null ? null : 'custom' }, buildSeconds: buildSec, counts,
    heap: { before: m0, built: m1, afterKeyRing: m2, afterIdentities: m3, afterProfiles: m4 },
    bytesPerProfile: { total: totalPer, profilesAndTraits: per(parts.profilesAndTraits), identityIndex: per(parts.identityIndex), keyRing: per(parts.keyRing), rest: per(parts.rest), baseline: per(baseline) },
    parts, total, baseline: { ...baseline, jsonBytesPerPerson: jsonBytes / n }, ratio,
    target: { name: `≤ ${TARGET_BYTES} bytes per profile at 1M profiles with ~20 traits`, value: targetLine, pass, measuredAt: n },
  }, opts.out);
  say(`\nWrote ${file} and memory-latest.json\n`);
  return 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`\nbench:memory failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
