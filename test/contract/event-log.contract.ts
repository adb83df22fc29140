/**
 * The `EventLog` contract: every adapter runs this suite (one line per adapter in
 * `event-log.test.ts`, see DESIGN.md §2).
 *
 * `open(dir)` opens the adapter over a fresh temp folder; `reopen()` closes the current instance
 * and opens a new one over the same folder (what a process restart does); `close()` closes the
 * current instance. Payloads are JSON objects carrying `workspaceId`, `messageId` and
 * `receivedAt` (ISO) consistent with the record, as the collector writes them: the DuckDB
 * adapter reads those fields from the payload.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { EventLog, LogRecord } from '../../src/storage/ports.js';

export interface OpenedEventLog {
  log: EventLog;
  reopen: () => Promise<EventLog>;
  close: () => Promise<void>;
}

export type OpenEventLog = (dir: string) => Promise<OpenedEventLog>;

/** Turns "open once + close" into the contract's `open` (reopen = close, then open again). */
export function reopenable(openOnce: (dir: string) => Promise<{ log: EventLog; close: () => Promise<void> }>): OpenEventLog {
  return async (dir) => {
    let current = await openOnce(dir);
    return {
      log: current.log,
      reopen: async () => {
        await current.close();
        current = await openOnce(dir);
        return current.log;
      },
      close: () => current.close(),
    };
  };
}

export interface RecordSpec {
  workspaceId?: string;
  messageId?: string;
  receivedAt?: number;
  /** Extra top-level payload fields (must not be named workspaceId, messageId or receivedAt). */
  extra?: Record<string, unknown>;
}

const BASE_TIME = Date.UTC(2024, 4, 17, 10, 30, 0, 123);
const RESERVED = new Set(['workspaceId', 'messageId', 'receivedAt']);

/** A record whose payload is a JSON object consistent with its fields. */
export function makeRecord(seq: bigint, spec: RecordSpec = {}): LogRecord {
  const workspaceId = spec.workspaceId ?? 'ws_1';
  const messageId = spec.messageId ?? `m-${seq}`;
  const receivedAt = spec.receivedAt ?? BASE_TIME + Number(seq);
  const payload = JSON.stringify({ workspaceId, messageId, receivedAt: new Date(receivedAt).toISOString(), ...(spec.extra ?? {}) });
  return { seq, workspaceId, messageId, receivedAt, payload };
}

/** Records seq `from` .. `from + count - 1`. */
export function makeGroup(from: bigint, count: number, spec: (seq: bigint) => RecordSpec = () => ({})): LogRecord[] {
  return Array.from({ length: count }, (_, i) => makeRecord(from + BigInt(i), spec(from + BigInt(i))));
}

/** Plain copies, so assertions compare only the five fields. */
function plain(records: readonly LogRecord[]): LogRecord[] {
  return records.map((r) => ({ seq: r.seq, workspaceId: r.workspaceId, messageId: r.messageId, receivedAt: r.receivedAt, payload: r.payload }));
}

/** Pages through the whole log with `pageSize`, checking each page's shape on the way. */
export async function readAll(log: EventLog, pageSize = 1000, afterSeq = 0n): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let after = afterSeq;
  for (let guard = 0; guard < 100_000; guard++) {
    const page = await log.readAfter(after, pageSize);
    assert.ok(page.length <= pageSize, `readAfter(${after}, ${pageSize}) returned ${page.length} records`);
    if (page.length === 0) return out;
    for (const r of page) {
      assert.ok(r.seq > after, `readAfter(${after}) returned seq ${r.seq}, not after the previous one`);
      after = r.seq;
      out.push(r);
    }
  }
  throw new Error('readAll did not terminate');
}

function sortedPairs(pairs: Array<[string, string]>): Array<[string, string]> {
  return [...pairs].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
}

interface Harness {
  readonly log: EventLog;
  reopen(): Promise<EventLog>;
}

async function withLog(open: OpenEventLog, fn: (h: Harness) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ensemble-eventlog-'));
  try {
    const opened = await open(dir);
    let log = opened.log;
    try {
      await fn({
        get log() {
          return log;
        },
        reopen: async () => (log = await opened.reopen()),
      });
    } finally {
      await opened.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Strings that stress framing and escaping: tabs, newlines, quotes, backslashes, emoji, NUL, U+2028. */
const ODD_STRINGS = [
  'tab\there', 'new\nline', 'cr\r\nlf', 'quote"d', "single'quote", 'back\\slash', '\\"\\t', 'emoji 😀🎉👩‍👩‍👧',
  'e\u0301 combining', 'nul\u0000byte', 'line\u2028sep\u2029para', '{"json":"inside"}', '', ' ', '\u007f\u0085\ufeff',
];

export function eventLogContract(name: string, open: OpenEventLog): void {
  describe(`EventLog contract: ${name}`, () => {
    test('an empty log has lastSeq 0n, reads nothing and prunes nothing', async () => {
      await withLog(open, async (h) => {
        assert.equal(await h.log.lastSeq(), 0n);
        assert.deepEqual(await h.log.readAfter(0n, 10), []);
        assert.deepEqual(await h.log.readAfter(5n, 10), []);
        assert.deepEqual(await h.log.recentMessageIds(0), []);
        assert.equal(await h.log.prune(100n, Date.now() + 86_400_000), 0);
        await h.reopen();
        assert.equal(await h.log.lastSeq(), 0n);
        assert.deepEqual(await h.log.readAfter(0n, 10), []);
      });
    });

    test('append then readAfter returns the records in seq order with identical fields', async () => {
      await withLog(open, async (h) => {
        const records = [
          ...makeGroup(1n, 3),
          ...makeGroup(4n, ODD_STRINGS.length, (seq) => {
            const s = ODD_STRINGS[Number(seq - 4n)] as string;
            return { workspaceId: `ws ${s}`, messageId: `msg ${s}`, extra: { text: s, nested: { list: [s, 1.5, -0, null, true], 'key\t"\\': s } } };
          }),
        ];
        await h.log.append(records.slice(0, 3));
        await h.log.append(records.slice(3));
        const back = await h.log.readAfter(0n, 1000);
        assert.deepEqual(plain(back), records);
        // Byte-for-byte: escapes such as \t, \n, \", \\ and \u0000 stay exactly as JSON wrote them.
        for (const [i, r] of records.entries()) assert.equal(Buffer.compare(Buffer.from((back[i] as LogRecord).payload), Buffer.from(r.payload)), 0);
        assert.ok(records.some((r) => r.payload.includes('\\t') && r.payload.includes('\\n') && r.payload.includes('\\\\') && r.payload.includes('\\"')));
      });
    });

    test('a large payload and a large group round-trip', async () => {
      await withLog(open, async (h) => {
        const big = makeRecord(1n, { extra: { blob: 'x'.repeat(200_000) + 'é😀"\\\t\n' } });
        const group = makeGroup(2n, 2000, (seq) => ({ workspaceId: `ws_${seq % 3n}` }));
        await h.log.append([big]);
        await h.log.append(group);
        assert.deepEqual(plain(await readAll(h.log, 333)), [big, ...group]);
        assert.equal(await h.log.lastSeq(), 2001n);
      });
    });

    test('readAfter respects afterSeq and limit, and paging reaches every record', async () => {
      await withLog(open, async (h) => {
        const records = [...makeGroup(1n, 4), ...makeGroup(5n, 1), ...makeGroup(6n, 7)];
        await h.log.append(records.slice(0, 4));
        await h.log.append(records.slice(4, 5));
        await h.log.append(records.slice(5));
        const last = records.length;
        for (let after = 0; after <= last + 1; after++) {
          for (const limit of [1, 2, 3, 5, last, last + 10]) {
            const page = await h.log.readAfter(BigInt(after), limit);
            assert.deepEqual(plain(page), records.slice(after, after + limit), `readAfter(${after}, ${limit})`);
          }
        }
        for (const pageSize of [1, 2, 3, 7, 100]) assert.deepEqual(plain(await readAll(h.log, pageSize)), records, `paging by ${pageSize}`);
        // Out-of-order reads and interleaved lookups do not disturb sequential reads.
        assert.deepEqual(plain(await h.log.readAfter(2n, 2)), records.slice(2, 4));
        assert.equal((await h.log.recentMessageIds(0)).length, last);
        assert.deepEqual(plain(await h.log.readAfter(4n, 2)), records.slice(4, 6));
        assert.deepEqual(plain(await h.log.readAfter(0n, 1)), records.slice(0, 1));
        assert.deepEqual(plain(await h.log.readAfter(6n, 100)), records.slice(6));
      });
    });

    test('readers see appends made after they reached the end', async () => {
      await withLog(open, async (h) => {
        const a = makeGroup(1n, 3);
        const b = makeGroup(4n, 2);
        await h.log.append(a);
        assert.deepEqual(plain(await h.log.readAfter(0n, 10)), a);
        assert.deepEqual(await h.log.readAfter(3n, 10), []);
        assert.deepEqual(await h.log.readAfter(4n, 10), []);
        await h.log.append(b);
        assert.deepEqual(plain(await h.log.readAfter(3n, 10)), b);
        assert.deepEqual(plain(await h.log.readAfter(4n, 10)), b.slice(1));
      });
    });

    test('lastSeq is the last appended seq', async () => {
      await withLog(open, async (h) => {
        assert.equal(await h.log.lastSeq(), 0n);
        await h.log.append(makeGroup(1n, 1));
        assert.equal(await h.log.lastSeq(), 1n);
        await h.log.append(makeGroup(2n, 9));
        assert.equal(await h.log.lastSeq(), 10n);
        await h.reopen();
        assert.equal(await h.log.lastSeq(), 10n);
      });
    });

    test('records survive close + reopen, and appends continue after reopen', async () => {
      await withLog(open, async (h) => {
        const a = [...makeGroup(1n, 5), ...makeGroup(6n, 3, () => ({ workspaceId: 'ws "2"\t', extra: { k: 'v\n' } }))];
        await h.log.append(a.slice(0, 5));
        await h.log.append(a.slice(5));
        await h.reopen();
        assert.deepEqual(plain(await readAll(h.log)), a);
        assert.equal(await h.log.lastSeq(), 8n);
        const b = makeGroup(9n, 4);
        await h.log.append(b);
        assert.deepEqual(plain(await readAll(h.log, 3)), [...a, ...b]);
        await h.reopen();
        assert.deepEqual(plain(await readAll(h.log, 2)), [...a, ...b]);
        assert.equal(await h.log.lastSeq(), 12n);
        const c = makeGroup(13n, 1);
        await h.log.append(c);
        await h.reopen();
        assert.deepEqual(plain(await readAll(h.log)), [...a, ...b, ...c]);
      });
    });

    test('appending an empty array is a no-op', async () => {
      await withLog(open, async (h) => {
        await h.log.append([]);
        assert.equal(await h.log.lastSeq(), 0n);
        assert.deepEqual(await h.log.readAfter(0n, 10), []);
        const a = makeGroup(1n, 2);
        await h.log.append(a);
        await h.log.append([]);
        assert.equal(await h.log.lastSeq(), 2n);
        assert.deepEqual(plain(await h.log.readAfter(0n, 10)), a);
        await h.reopen();
        await h.log.append([]);
        assert.deepEqual(plain(await h.log.readAfter(0n, 10)), a);
        assert.equal(await h.log.lastSeq(), 2n);
      });
    });

    test('a group with non-consecutive seqs is rejected and nothing of it is stored', async () => {
      await withLog(open, async (h) => {
        const a = makeGroup(1n, 2);
        await h.log.append(a);
        const bad: LogRecord[][] = [
          [makeRecord(3n), makeRecord(5n)],
          [makeRecord(3n), makeRecord(4n), makeRecord(4n)],
          [makeRecord(4n), makeRecord(3n)],
          [makeRecord(3n), makeRecord(4n), makeRecord(6n), makeRecord(7n)],
        ];
        for (const group of bad) {
          await assert.rejects(h.log.append(group), `group ${group.map((r) => r.seq).join(',')} must be rejected`);
          assert.deepEqual(plain(await h.log.readAfter(0n, 100)), a);
          assert.equal(await h.log.lastSeq(), 2n);
        }
        await h.reopen();
        assert.deepEqual(plain(await h.log.readAfter(0n, 100)), a);
        assert.equal(await h.log.lastSeq(), 2n);
        const b = makeGroup(3n, 3);
        await h.log.append(b);
        assert.deepEqual(plain(await readAll(h.log)), [...a, ...b]);
      });
    });

    test('a seq gap between groups (left by a failed commit, see group-commit.ts) is kept across reopen', async () => {
      await withLog(open, async (h) => {
        // GroupCommitLog never reuses the seqs of a failed commit: the next group starts after them.
        const a = makeGroup(1n, 3);
        const b = makeGroup(6n, 2);
        await h.log.append(a);
        await h.log.append(b);
        assert.deepEqual(plain(await readAll(h.log)), [...a, ...b]);
        assert.equal(await h.log.lastSeq(), 7n);
        await h.reopen();
        assert.equal(await h.log.lastSeq(), 7n, 'lastSeq after reopen');
        assert.deepEqual(plain(await readAll(h.log)), [...a, ...b], 'acknowledged records after reopen');
        const c = makeGroup(8n, 1);
        await h.log.append(c);
        await h.reopen();
        assert.deepEqual(plain(await readAll(h.log)), [...a, ...b, ...c]);
      });
    });

    test('recentMessageIds returns the pairs received at or after the given time only', async () => {
      await withLog(open, async (h) => {
        const t = BASE_TIME;
        const times = [t - 86_400_000, t - 1, t, t, t + 1, t + 3_600_000, t - 5];
        const records = times.map((receivedAt, i) =>
          makeRecord(BigInt(i + 1), { receivedAt, workspaceId: i % 2 ? 'ws_b' : `ws\t"a"`, messageId: `m${i} ${ODD_STRINGS[i] ?? ''}` }),
        );
        await h.log.append(records.slice(0, 4));
        await h.log.append(records.slice(4));
        const expected = (since: number): Array<[string, string]> =>
          sortedPairs(records.filter((r) => r.receivedAt >= since).map((r): [string, string] => [r.workspaceId, r.messageId]));
        for (const since of [0, t - 86_400_000, t - 5, t - 1, t, t + 1, t + 2, t + 3_600_000, t + 3_600_001]) {
          assert.deepEqual(sortedPairs(await h.log.recentMessageIds(since)), expected(since), `since ${since - t} ms`);
        }
        await h.reopen();
        assert.deepEqual(sortedPairs(await h.log.recentMessageIds(t)), expected(t));
        // Sequential reading still works after the lookup.
        assert.deepEqual(plain(await readAll(h.log, 2)), records);
      });
    });

    test('prune never removes unprocessed records (seq > uptoSeq) and returns how many it removed', async () => {
      await withLog(open, async (h) => {
        const old = Date.UTC(2001, 0, 1);
        const records = [...makeGroup(1n, 5, (s) => ({ receivedAt: old + Number(s) })), ...makeGroup(6n, 5, (s) => ({ receivedAt: old + Number(s) }))];
        await h.log.append(records.slice(0, 5));
        await h.log.append(records.slice(5));
        const future = Date.now() + 86_400_000;
        let present = records;
        for (const upto of [0n, 2n, 5n, 7n, 9n]) {
          const removed = await h.log.prune(upto, future);
          const after = plain(await readAll(h.log));
          assert.deepEqual(
            after.filter((r) => r.seq > upto),
            records.filter((r) => r.seq > upto),
            `prune(${upto}) must keep every record with seq > ${upto}`,
          );
          // Whatever is gone was processed, was present before, and is counted.
          for (const r of after) assert.ok(present.some((p) => p.seq === r.seq), `seq ${r.seq} reappeared`);
          assert.equal(removed, present.length - after.length, `prune(${upto}) return value`);
          assert.deepEqual(after, present.filter((p) => after.some((r) => r.seq === p.seq)));
          present = after;
        }
        // Records received at/after beforeMs are kept even when processed.
        const keptByTime = await h.log.prune(10n, old);
        assert.equal(keptByTime, 0);
        assert.deepEqual(plain(await readAll(h.log)), present);
        // Pruning does not disturb appends or reads of what follows.
        const more = makeGroup(11n, 2, (s) => ({ receivedAt: old + Number(s) }));
        await h.log.append(more);
        assert.deepEqual(plain(await h.log.readAfter(10n, 10)), more);
        await h.reopen();
        assert.deepEqual(plain(await h.log.readAfter(10n, 10)), more);
      });
    });

    test('lastSeq still reports the highest appended seq after prune removed processed records', async () => {
      await withLog(open, async (h) => {
        await h.log.append(makeGroup(1n, 3, () => ({ receivedAt: Date.UTC(2001, 0, 1) })));
        await h.log.prune(3n, Date.now() + 86_400_000);
        assert.equal(await h.log.lastSeq(), 3n, 'lastSeq is "the highest seq ever appended" (ports.ts)');
        await h.reopen();
        assert.equal(await h.log.lastSeq(), 3n, 'lastSeq after reopen');
      });
    });

    test('property: random groups read back identically before and after reopen', async () => {
      const odd = fc.constantFrom(...ODD_STRINGS);
      const id = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), odd);
      const key = fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), odd).filter((k) => !RESERVED.has(k));
      const spec = fc.record({
        workspaceId: id,
        messageId: id,
        receivedAt: fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
        extra: fc.dictionary(key, fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 }), { maxKeys: 4 }),
      });
      const groupsArb = fc.array(fc.array(spec, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 });
      await fc.assert(
        fc.asyncProperty(groupsArb, fc.bigInt({ min: 1n, max: 1n << 53n }), fc.integer({ min: 1, max: 7 }), async (groups, firstSeq, pageSize) => {
          await withLog(open, async (h) => {
            const appended: LogRecord[] = [];
            let seq = firstSeq;
            for (const g of groups) {
              const records = g.map((s) => makeRecord(seq++, s));
              await h.log.append(records);
              appended.push(...records);
            }
            assert.deepEqual(plain(await readAll(h.log, pageSize)), appended);
            await h.reopen();
            assert.deepEqual(plain(await readAll(h.log, pageSize)), appended);
            assert.equal(await h.log.lastSeq(), seq - 1n);
          });
        }),
        { numRuns: Number(process.env.EVENTLOG_PROPERTY_RUNS ?? 25) },
      );
    });
  });
}
