/**
 * Tests specific to the file log (`SegmentLog`); the port's contract is in
 * `contract/event-log.contract.ts`. Covers torn-tail recovery, crossing and pruning segments
 * (made by hand: real segments roll at 64 MB), and a failed write leaving no partial data.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, open, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentLog, SYNC_ON_WRITE } from '../src/storage/file-log/segment-log.js';
import type { LogRecord } from '../src/storage/ports.js';
import { makeGroup, makeRecord, readAll } from './contract/event-log.contract.js';

/** One record in the documented segment format. */
function line(r: LogRecord): string {
  return `${r.seq}\t${r.receivedAt}\t${JSON.stringify(r.workspaceId)}\t${JSON.stringify(r.messageId)}\t${r.payload}\n`;
}

function segmentName(firstSeq: bigint): string {
  return `${firstSeq.toString().padStart(20, '0')}.seg`;
}

function plain(records: readonly LogRecord[]): LogRecord[] {
  return records.map((r) => ({ seq: r.seq, workspaceId: r.workspaceId, messageId: r.messageId, receivedAt: r.receivedAt, payload: r.payload }));
}

async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

async function size(path: string): Promise<number> {
  return (await stat(path)).size;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ensemble-segment-log-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opens, runs `fn`, closes — even when `fn` throws. */
async function using<T>(dir: string, fn: (log: SegmentLog) => Promise<T>): Promise<T> {
  const log = await SegmentLog.open(dir);
  try {
    return await fn(log);
  } finally {
    await log.close();
  }
}

describe('SegmentLog torn-tail recovery', () => {
  const good = [...makeGroup(1n, 3, () => ({ workspaceId: 'ws\t"1"', extra: { s: 'a\tb\nc' } })), ...makeGroup(4n, 2)];
  const garbage: Array<[string, string | Buffer]> = [
    ['a partial line without newline', `6\t${good[0]?.receivedAt}\t"ws_1"\t"m-6"\t{"workspaceId":"ws`],
    ['a partial line that is only a seq digit', '6'],
    ['a full record without its final newline', line(makeRecord(6n)).slice(0, -1)],
    ['a complete line with a malformed receivedAt', '6\tnot-a-time\t"ws_1"\t"m-6"\t{}\n'],
    ['a complete line with too few fields', '6\t1\t"ws_1"\n'],
    ['a complete line with too many fields', '6\t1\t"ws_1"\t"m-6"\t{}\t{}\n'],
    ['a complete line whose payload is not JSON', '6\t1\t"ws_1"\t"m-6"\t{"a":\n'],
    ['a complete line whose ids are not JSON strings', '6\t1\tws_1\t"m-6"\t{}\n'],
    ['a complete line whose ids are JSON but not strings', '6\t1\t1\t"m-6"\t{}\n'],
    ['an empty line', '\n'],
    ['binary junk with a newline', Buffer.from([0xff, 0xfe, 0x00, 0x09, 0x0a, 0x37])],
    // Wrong seqs: repeated or going back. (A *higher* seq is not garbage: GroupCommitLog leaves a gap
    // after a failed commit, so a well-formed line with a skipped seq may be an acknowledged group.)
    ['a well-formed line repeating the last seq', line(makeRecord(5n))],
    ['a well-formed line with a lower seq', line(makeRecord(1n))],
    ['a wrong-seq line followed by a correct one', line(makeRecord(2n)) + line(makeRecord(6n))],
  ];

  for (const [what, junk] of garbage) {
    test(`cuts ${what} and keeps every acknowledged record`, async () => {
      await withDir(async (dir) => {
        await using(dir, async (log) => {
          await log.append(good.slice(0, 3));
          await log.append(good.slice(3));
        });
        const [name] = await segments(dir);
        assert.ok(name !== undefined);
        const path = join(dir, name);
        const goodSize = await size(path);
        assert.equal(goodSize, Buffer.byteLength(good.map(line).join('')), 'the file is exactly the documented format');
        await appendFile(path, junk);

        const more = makeGroup(6n, 2, () => ({ messageId: 'after "the" cut\t' }));
        await using(dir, async (log) => {
          assert.equal(await size(path), goodSize, 'the garbage is cut on open');
          assert.equal(await log.lastSeq(), 5n);
          assert.deepEqual(plain(await readAll(log)), good);
          await log.append(more);
          assert.deepEqual(plain(await readAll(log, 2)), [...good, ...more]);
        });
        await using(dir, async (log) => {
          assert.equal(await log.lastSeq(), 7n);
          assert.deepEqual(plain(await readAll(log)), [...good, ...more]);
        });
        assert.equal(await size(path), goodSize + Buffer.byteLength(more.map(line).join('')));
        assert.deepEqual(await segments(dir), [name]);
      });
    });
  }

  test('a segment holding only a torn first line opens empty and takes appends', async () => {
    await withDir(async (dir) => {
      const path = join(dir, segmentName(1n));
      await writeFile(path, line(makeRecord(1n)).slice(0, 20));
      await using(dir, async (log) => {
        assert.equal(await size(path), 0);
        assert.equal(await log.lastSeq(), 0n);
        assert.deepEqual(await log.readAfter(0n, 10), []);
        await log.append(makeGroup(1n, 2));
      });
      await using(dir, async (log) => assert.deepEqual(plain(await readAll(log)), makeGroup(1n, 2)));
    });
  });

  test('only the last segment is recovered; an empty last segment (rolled, then crashed) keeps lastSeq', async () => {
    await withDir(async (dir) => {
      const first = makeGroup(1n, 3);
      await writeFile(join(dir, segmentName(1n)), first.map(line).join(''));
      await writeFile(join(dir, segmentName(4n)), '4\t12');
      await using(dir, async (log) => {
        assert.equal(await size(join(dir, segmentName(4n))), 0);
        assert.equal(await log.lastSeq(), 3n);
        assert.deepEqual(plain(await readAll(log)), first);
        await log.append(makeGroup(4n, 2));
      });
      await using(dir, async (log) => {
        assert.deepEqual(plain(await readAll(log)), makeGroup(1n, 5));
        assert.equal(await log.lastSeq(), 5n);
      });
      assert.deepEqual(await segments(dir), [segmentName(1n), segmentName(4n)]);
    });
  });
});

describe('SegmentLog across segment files', () => {
  const old = Date.UTC(2001, 0, 1);
  const all = makeGroup(1n, 9, (s) => ({ receivedAt: old + Number(s) * 1000, workspaceId: `ws_${s % 2n}`, extra: { s: `seg\t${s}` } }));
  const names = [segmentName(1n), segmentName(4n), segmentName(7n)];

  /** Three hand-made segments: 1–3, 4–6, 7–9; the first two with an old mtime. */
  async function makeSegments(dir: string): Promise<void> {
    for (const [i, name] of names.entries()) await writeFile(join(dir, name), all.slice(i * 3, i * 3 + 3).map(line).join(''));
    const oldDate = new Date(old);
    await utimes(join(dir, names[0] as string), oldDate, oldDate);
    await utimes(join(dir, names[1] as string), oldDate, oldDate);
  }

  test('readAfter, paging, lastSeq and recentMessageIds cross segment boundaries', async () => {
    await withDir(async (dir) => {
      await makeSegments(dir);
      await using(dir, async (log) => {
        assert.equal(await log.lastSeq(), 9n);
        for (let after = 0; after <= 10; after++) {
          for (const limit of [1, 2, 3, 4, 7, 100]) {
            assert.deepEqual(plain(await log.readAfter(BigInt(after), limit)), all.slice(after, after + limit), `readAfter(${after}, ${limit})`);
          }
        }
        for (const pageSize of [1, 2, 3, 4, 5]) assert.deepEqual(plain(await readAll(log, pageSize)), all, `paging by ${pageSize}`);
        const since = old + 5000;
        assert.deepEqual(
          (await log.recentMessageIds(since)).sort(),
          all.filter((r) => r.receivedAt >= since).map((r) => [r.workspaceId, r.messageId]).sort(),
        );
        // Appends go to the last segment (it is far below 64 MB): no new file.
        const lastPath = join(dir, names[2] as string);
        const before = await size(lastPath);
        const more = makeGroup(10n, 2);
        await log.append(more);
        assert.deepEqual(await segments(dir), names);
        assert.equal(await size(lastPath), before + Buffer.byteLength(more.map(line).join('')));
        assert.deepEqual(plain(await readAll(log, 4)), [...all, ...more]);
      });
    });
  });

  test('prune deletes processed, old segments, never one with unprocessed records, never the last', async () => {
    await withDir(async (dir) => {
      await makeSegments(dir);
      const more = makeGroup(10n, 1);
      await using(dir, async (log) => {
        await log.append(more);
        const everything = [...all, ...more];
        // Position a sequential reader inside the first segment before pruning it.
        assert.deepEqual(plain(await log.readAfter(0n, 2)), everything.slice(0, 2));

        assert.equal(await log.prune(2n, Date.now() + 86_400_000), 0, 'segment 1–3 still holds unprocessed seq 3');
        assert.deepEqual(await segments(dir), names);
        assert.equal(await log.prune(3n, old - 1), 0, 'segment 1–3 was written after beforeMs');
        assert.deepEqual(await segments(dir), names);
        assert.deepEqual(plain(await readAll(log)), everything);

        assert.equal(await log.prune(3n, Date.now()), 3);
        assert.deepEqual(await segments(dir), names.slice(1));
        assert.deepEqual(plain(await log.readAfter(2n, 100)), everything.slice(3), 'a reader behind the pruned segment continues with what is left');
        assert.deepEqual(plain(await readAll(log)), everything.slice(3));

        assert.equal(await log.prune(100n, Date.now() + 86_400_000), 3, 'only segment 4–6 goes: the last segment is never removed');
        assert.deepEqual(await segments(dir), names.slice(2));
        assert.equal(await log.prune(100n, Date.now() + 86_400_000), 0);
        assert.deepEqual(await segments(dir), names.slice(2));
        assert.equal(await log.lastSeq(), 10n);
        assert.deepEqual(plain(await readAll(log)), everything.slice(6));
      });
      await using(dir, async (log) => {
        assert.equal(await log.lastSeq(), 10n);
        assert.deepEqual(plain(await readAll(log)), [...all.slice(6), ...more]);
        const next = makeGroup(11n, 2);
        await log.append(next);
        assert.deepEqual(plain(await log.readAfter(10n, 10)), next);
      });
    });
  });
});

type Handle = Awaited<ReturnType<typeof open>>;
type HandleMethod = (this: Handle, ...args: unknown[]) => Promise<unknown>;
type Patchable = Record<'write' | 'datasync' | 'truncate', HandleMethod>;

/**
 * Makes the next `write` (or `datasync`) on any FileHandle fail once, as ENOSPC / EIO would: a
 * failing write first writes half its buffer. With `truncateFails`, the clean-up truncate fails too.
 * Returns the restore function.
 */
async function failNext(dir: string, what: 'write' | 'datasync', truncateFails = false): Promise<() => void> {
  const probe = await open(dir, 'r');
  const proto = Object.getPrototypeOf(probe) as Patchable;
  await probe.close();
  const original = { write: proto.write, datasync: proto.datasync, truncate: proto.truncate };
  const restore = (): void => {
    proto.write = original.write;
    proto.datasync = original.datasync;
    proto.truncate = original.truncate;
  };
  const fail = (): Error => Object.assign(new Error('ENOSPC: no space left on device (simulated)'), { code: 'ENOSPC' });
  if (what === 'write') {
    proto.write = async function (this: Handle, ...args: unknown[]): Promise<unknown> {
      proto.write = original.write;
      const buf = args[0] as Buffer;
      await original.write.call(this, buf.subarray(0, Math.floor(buf.length / 2)));
      throw fail();
    };
  } else {
    proto.datasync = async function (this: Handle): Promise<unknown> {
      proto.datasync = original.datasync;
      throw fail();
    };
  }
  if (truncateFails) {
    proto.truncate = async function (this: Handle): Promise<unknown> {
      proto.truncate = original.truncate;
      throw fail();
    };
  }
  return restore;
}

describe('SegmentLog failed writes', () => {
  // With O_DSYNC the write is the sync: there is no separate datasync to fail.
  for (const what of SYNC_ON_WRITE ? ['write'] as const : ['write', 'datasync'] as const) {
    test(`a failed ${what} leaves no partial data and the same seqs can be appended again`, async () => {
      await withDir(async (dir) => {
        const a = makeGroup(1n, 3);
        const b = makeGroup(4n, 2, () => ({ extra: { pad: 'x'.repeat(1000) } }));
        await using(dir, async (log) => {
          await log.append(a);
          const [name] = await segments(dir);
          const path = join(dir, name as string);
          const before = await size(path);
          const restore = await failNext(dir, what);
          try {
            await assert.rejects(log.append(b), /ENOSPC/);
          } finally {
            restore();
          }
          assert.equal(await size(path), before, 'the partial group is cut');
          assert.deepEqual(plain(await readAll(log)), a);
          assert.equal(await log.lastSeq(), 3n);
          await log.append(b);
          assert.deepEqual(plain(await readAll(log)), [...a, ...b]);
        });
        await using(dir, async (log) => assert.deepEqual(plain(await readAll(log)), [...a, ...b]));
      });
    });
  }

  test('a short write (the kernel took part of the buffer) is continued, not lost or duplicated', async () => {
    await withDir(async (dir) => {
      const a = makeGroup(1n, 4, () => ({ extra: { pad: 'y'.repeat(500) } }));
      const probe = await open(dir, 'r');
      const proto = Object.getPrototypeOf(probe) as Patchable;
      await probe.close();
      const original = proto.write;
      let calls = 0;
      proto.write = async function (this: Handle, ...args: unknown[]): Promise<unknown> {
        calls++;
        const [buf, offset] = args as [Buffer, number | undefined];
        const rest = buf.subarray(offset ?? 0);
        // Hand the kernel at most 300 bytes per call, as a short write would.
        return original.call(this, rest.subarray(0, Math.min(300, rest.length)));
      };
      try {
        await using(dir, (log) => log.append(a));
      } finally {
        proto.write = original;
      }
      assert.ok(calls > 1, 'the append needed several writes');
      await using(dir, async (log) => assert.deepEqual(plain(await readAll(log)), a));
    });
  });

  test('after a failed write, the next group (seqs after the failed ones, as GroupCommitLog does) survives reopen', async () => {
    await withDir(async (dir) => {
      const a = makeGroup(1n, 3);
      const failed = makeGroup(4n, 2);
      const c = makeGroup(6n, 2);
      await using(dir, async (log) => {
        await log.append(a);
        const restore = await failNext(dir, 'write');
        try {
          await assert.rejects(log.append(failed), /ENOSPC/);
        } finally {
          restore();
        }
        await log.append(c);
        assert.deepEqual(plain(await readAll(log)), [...a, ...c]);
      });
      await using(dir, async (log) => {
        assert.deepEqual(plain(await readAll(log)), [...a, ...c], 'group 6–7 was acknowledged and must survive a restart');
        assert.equal(await log.lastSeq(), 7n);
      });
    });
  });

  test('when the clean-up truncate fails too, the log refuses appends until reopened, and reopen takes appends', async () => {
    await withDir(async (dir) => {
      const a = makeGroup(1n, 3);
      const b = makeGroup(4n, 2);
      await using(dir, async (log) => {
        await log.append(a);
        await failWriteAndCleanUp(dir, log, b);
        await assert.rejects(log.append(b), /unusable/);
        assert.deepEqual(plain(await readAll(log)), a, 'readers never see past the durable bytes');
      });
      let back: LogRecord[] = [];
      const next: LogRecord[] = [];
      await using(dir, async (log) => {
        back = plain(await readAll(log));
        assert.deepEqual(back.slice(0, 3), a);
        // A restarted collector continues after lastSeq.
        next.push(...makeGroup((await log.lastSeq()) + 1n, 2));
        await log.append(next);
      });
      await using(dir, async (log) => assert.deepEqual(plain(await readAll(log)), [...back, ...next]));
    });
  });

  test('a group cut short by a crash mid-write comes back as whole records only, never torn ones', async () => {
    await withDir(async (dir) => {
      const a = makeGroup(1n, 3);
      const b = makeGroup(4n, 2);
      await using(dir, async (log) => {
        await log.append(a);
        // The truncate that would cut the partial group fails too, so the process "crashes" with
        // half of the group (record 4 whole, record 5 torn) in the file.
        await failWriteAndCleanUp(dir, log, b);
      });
      await using(dir, async (log) => {
        // ports.ts: a never-acknowledged group may be partly present after a crash (the client's
        // retry is deduplicated on messageId), but only as whole records and in order.
        const back = plain(await readAll(log));
        assert.deepEqual(back.slice(0, a.length), a);
        const extra = back.slice(a.length);
        assert.deepEqual(extra, b.slice(0, extra.length));
        assert.ok(extra.length < b.length, 'the torn record is gone');
        assert.equal(await log.lastSeq(), 3n + BigInt(extra.length));
      });
    });
  });
});

/** Appends `group` while its write fails half-way and the clean-up truncate fails too. */
async function failWriteAndCleanUp(dir: string, log: SegmentLog, group: LogRecord[]): Promise<void> {
  const restore = await failNext(dir, 'write', true);
  try {
    await assert.rejects(log.append(group), /ENOSPC/);
  } finally {
    restore();
  }
}
