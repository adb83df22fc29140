/**
 * Marketing pressure: policy validation, the connector → channel map, and `decide` on caps
 * (per channel and across channels, window boundaries, deferral and suppression), quiet hours
 * (midnight wrap, daylight-saving changes, the profile's zone) and displacement of waiting
 * messages by more important ones; then properties
 * on random policies and histories (fast-check): a send never overfills a cap nor falls in quiet
 * hours, a deferral's instant is one at which the send goes ahead (and, without displacement, no
 * earlier one is), a suppression names a cap still full past `maxDeferMs`, decisions are
 * deterministic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CAP_CHANNELS, CHANNELS, DEFAULT_MAX_DEFER_MS, DEFAULT_PRESSURE_POLICY, channelOf, decide, pressurePolicyProblems, readPressurePolicy,
  type Channel, type PressureCapT, type PressureDecision, type PressureInput, type PressurePolicyT, type SentMessage,
} from '../src/activate/pressure.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.parse('2026-01-15T10:00:00Z'); // 11:00 in Paris
const QUIET = { from: '21:00', to: '08:00' };

function policy(p: Partial<PressurePolicyT> = {}): PressurePolicyT {
  return { caps: [], defaultTimeZone: 'Europe/Paris', ...p };
}

let seq = 0;
function msg(at: number, channel: Channel = 'email', priority = 0, key = `m${seq++}`): SentMessage {
  return { at, channel, priority, key };
}

function run(p: PressurePolicyT, over: Partial<PressureInput> = {}): PressureDecision {
  return decide({ policy: p, channel: 'email', now: NOW, priority: 0, history: [], ...over });
}

const iso = (ms: number): string => new Date(ms).toISOString();

function assertDefer(d: PressureDecision, until: number, rule: string): void {
  assert.equal(d.kind, 'defer', JSON.stringify(d));
  if (d.kind !== 'defer') return;
  assert.equal(iso(d.until), iso(until));
  assert.equal(d.rule, rule);
}

// ---------------------------------------------------------------------------------------------

test('connectors map to the channels pressure applies to; the others are not subject to it', () => {
  assert.equal(channelOf('email'), 'email');
  assert.equal(channelOf('twilio-sms'), 'sms');
  assert.equal(channelOf('web-push'), 'push');
  assert.equal(channelOf('fcm'), 'push');
  assert.equal(channelOf('direct-mail'), 'mail');
  for (const other of ['webhook', 'meta', 'google-ads', 'the-trade-desk', 'xandr', 'Email', '']) assert.equal(channelOf(other), null, other);
});

test('the default policy is valid and sends everything at once, even at night', () => {
  assert.deepEqual(pressurePolicyProblems(DEFAULT_PRESSURE_POLICY), []);
  assert.deepEqual(DEFAULT_PRESSURE_POLICY.caps, []);
  assert.equal(DEFAULT_PRESSURE_POLICY.quietHours, undefined);
  const history = Array.from({ length: 50 }, (_, i) => msg(NOW - i * MINUTE));
  assert.deepEqual(decide({ policy: DEFAULT_PRESSURE_POLICY, channel: 'sms', now: Date.parse('2026-01-15T02:00:00Z'), priority: 0, history }), { kind: 'send' });
});

test('a valid policy has no problems; caps and the time zone default', () => {
  const full = { caps: [{ channel: 'email', max: 2, within: '7d' }, { channel: 'all', max: 3, within: '1w' }, { channel: 'email', max: 1, within: '12h' }], quietHours: QUIET, defaultTimeZone: 'America/New_York', displace: true };
  assert.deepEqual(pressurePolicyProblems(full), []);
  assert.deepEqual(pressurePolicyProblems({}), []);
  const read = readPressurePolicy({ quietHours: QUIET });
  assert.deepEqual(read, { ok: true, policy: { caps: [], quietHours: QUIET, defaultTimeZone: 'Europe/Paris' } });
});

test('policy problems are precise: times, zone, durations, max, channel, duplicates', () => {
  const codes = (input: unknown): Array<[string, string]> => pressurePolicyProblems(input).map((p) => [p.path, p.code]);
  assert.deepEqual(codes({ quietHours: { from: '24:00', to: '8:00' } }), [['/quietHours/from', 'invalid_time'], ['/quietHours/to', 'invalid_time']]);
  assert.deepEqual(codes({ quietHours: { from: '21:60', to: '08:00' } }), [['/quietHours/from', 'invalid_time']]);
  assert.deepEqual(codes({ quietHours: { from: '09:00', to: '09:00' } }), [['/quietHours', 'empty_quiet_hours']]);
  assert.deepEqual(codes({ defaultTimeZone: 'Mars/Olympus_Mons' }), [['/defaultTimeZone', 'unknown_time_zone']]);
  assert.deepEqual(codes({ defaultTimeZone: '' }), [['/defaultTimeZone', 'unknown_time_zone']]);
  for (const within of ['7days', '0d', '7', 'd', '4000d', '1y', 7]) {
    assert.deepEqual(codes({ caps: [{ channel: 'sms', max: 1, within }] }), [['/caps/0/within', 'invalid_duration']], String(within));
  }
  for (const max of [-1, 1.5, '2', 10_001]) assert.deepEqual(codes({ caps: [{ channel: 'sms', max, within: '1d' }] }), [['/caps/0/max', 'invalid_max']], String(max));
  assert.deepEqual(codes({ caps: [{ channel: 'fax', max: 1, within: '1d' }] }), [['/caps/0/channel', 'unknown_channel']]);
  // Same channel and window, however written: a duplicate; another channel or window is not.
  assert.deepEqual(codes({ caps: [
    { channel: 'email', max: 2, within: '7d' }, { channel: 'sms', max: 2, within: '7d' }, { channel: 'email', max: 1, within: '1d' }, { channel: 'email', max: 3, within: '1w' },
  ] }), [['/caps/3', 'duplicate_cap']]);
  assert.deepEqual(codes({ caps: [{ channel: 'all', max: 2, within: '24h' }, { channel: 'all', max: 2, within: '1d' }] }), [['/caps/1', 'duplicate_cap']]);
  const dup = pressurePolicyProblems({ caps: [{ channel: 'all', max: 2, within: '24h' }, { channel: 'all', max: 2, within: '1d' }] })[0];
  assert.match(dup?.message ?? '', /cap 0/);
  // What only the schema knows.
  assert.deepEqual(codes({ caps: [{ channel: 'sms', max: 1 }] }), [['/caps/0/within', 'invalid_duration']]);
  assert.deepEqual(codes({ displace: 'yes' }), [['/displace', 'schema']]);
  assert.deepEqual(codes({ extra: 1 }), [['/extra', 'schema']]);
  assert.deepEqual(codes({ caps: [{ channel: 'sms', max: 1, within: '1d' }, { channel: 'sms', max: 2, within: '24h', per: 'day' }] }), [['/caps/1', 'duplicate_cap'], ['/caps/1/per', 'schema']]);
  assert.deepEqual(codes({ quietHours: { from: '22:00', to: '22:00', tz: 'UTC' } }), [['/quietHours', 'empty_quiet_hours'], ['/quietHours/tz', 'schema']]);
  assert.deepEqual(codes({ caps: 'many' }), [['/caps', 'schema']]);
  assert.deepEqual(codes(null), [['/', 'schema']]);
  assert.deepEqual(codes([]), [['/', 'schema']]);
  assert.equal(readPressurePolicy({ defaultTimeZone: 'Nowhere' }).ok, false);
});

test('a cap counts its own channel only; `all` counts every channel', () => {
  const p = policy({ caps: [{ channel: 'email', max: 2, within: '7d' }, { channel: 'all', max: 3, within: '7d' }] });
  const twoEmails = [msg(NOW - DAY), msg(NOW - 2 * DAY)];
  assert.deepEqual(run(p, { history: twoEmails }), { kind: 'suppress', rule: 'cap:email:2/7d' });
  assert.deepEqual(run(p, { history: twoEmails, channel: 'sms' }), { kind: 'send' });
  assert.deepEqual(run(p, { history: [msg(NOW - DAY), msg(NOW - DAY, 'push')] }), { kind: 'send' });
  // Three messages of mixed channels fill `all`, for every channel, email included.
  const mixed = [msg(NOW - DAY, 'email'), msg(NOW - 2 * DAY, 'sms'), msg(NOW - 3 * DAY, 'push')];
  for (const channel of CHANNELS) assertDefer(run(p, { history: mixed, channel, maxDeferMs: 7 * DAY }), NOW + 4 * DAY, 'cap:all:3/7d');
  // Messages of other channels do not count towards the email cap.
  assert.deepEqual(run(policy({ caps: [{ channel: 'email', max: 1, within: '7d' }] }), { history: [msg(NOW - HOUR, 'sms'), msg(NOW - HOUR, 'mail')] }), { kind: 'send' });
  // A cap on a channel does not restrict the others.
  assert.deepEqual(run(policy({ caps: [{ channel: 'sms', max: 0, within: '1d' }] })), { kind: 'send' });
});

test('the window counts messages with at > now - within: one sent exactly `within` ago no longer counts', () => {
  const p = policy({ caps: [{ channel: 'email', max: 1, within: '7d' }] });
  assert.deepEqual(run(p, { history: [msg(NOW - 7 * DAY)] }), { kind: 'send' });
  assertDefer(run(p, { history: [msg(NOW - 7 * DAY + 1)] }), NOW + 1, 'cap:email:1/7d');
  assertDefer(run(p, { history: [msg(NOW)], maxDeferMs: 7 * DAY }), NOW + 7 * DAY, 'cap:email:1/7d');
  // Scheduled ahead (dated after now): counts already.
  assert.equal(run(p, { history: [msg(NOW + HOUR)] }).kind, 'suppress');
  assert.deepEqual(run(policy({ caps: [{ channel: 'email', max: 1, within: '30m' }] }), { history: [msg(NOW - 30 * MINUTE)] }), { kind: 'send' });
});

test('a full cap defers until the oldest counted message leaves the window', () => {
  const p = policy({ caps: [{ channel: 'email', max: 2, within: '7d' }] });
  const history = [msg(NOW - DAY), msg(NOW - 6.5 * DAY), msg(NOW - 10 * DAY)];
  assertDefer(run(p, { history }), NOW + 12 * HOUR, 'cap:email:2/7d');
  // Over the cap (a policy made stricter): as many must leave as to leave max - 1.
  const over = [msg(NOW - HOUR), msg(NOW - 166 * HOUR), msg(NOW - 165 * HOUR), msg(NOW - 160 * HOUR)];
  assertDefer(run(p, { history: over }), NOW + 8 * HOUR, 'cap:email:2/7d');
  // The history's order does not matter.
  assertDefer(run(p, { history: [...over].reverse() }), NOW + 8 * HOUR, 'cap:email:2/7d');
  // Several caps full: the later release wins.
  const two = policy({ caps: [{ channel: 'email', max: 1, within: '12h' }, { channel: 'all', max: 2, within: '1d' }] });
  assertDefer(run(two, { history: [msg(NOW - 2 * HOUR), msg(NOW - 20 * HOUR, 'sms')] }), NOW + 10 * HOUR, 'cap:email:1/12h');
  assertDefer(run(two, { history: [msg(NOW - 11 * HOUR), msg(NOW - 13 * HOUR, 'sms')] }), NOW + 11 * HOUR, 'cap:all:2/1d');
});

test('a cap that frees later than maxDeferMs (default 24 h) suppresses; max 0 always suppresses', () => {
  assert.equal(DEFAULT_MAX_DEFER_MS, DAY);
  const p = policy({ caps: [{ channel: 'sms', max: 1, within: '30d' }] });
  const history = [msg(NOW - 2 * DAY, 'sms')];
  assert.deepEqual(run(p, { channel: 'sms', history }), { kind: 'suppress', rule: 'cap:sms:1/30d' });
  assertDefer(run(p, { channel: 'sms', history, maxDeferMs: 28 * DAY }), NOW + 28 * DAY, 'cap:sms:1/30d');
  assert.deepEqual(run(p, { channel: 'sms', history, maxDeferMs: 28 * DAY - 1 }), { kind: 'suppress', rule: 'cap:sms:1/30d' });
  // Exactly the default: still deferred.
  assertDefer(run(policy({ caps: [{ channel: 'email', max: 1, within: '7d' }] }), { history: [msg(NOW - 6 * DAY)] }), NOW + DAY, 'cap:email:1/7d');
  assert.deepEqual(run(policy({ caps: [{ channel: 'mail', max: 0, within: '1d' }] }), { channel: 'mail', maxDeferMs: 1e12 }), { kind: 'suppress', rule: 'cap:mail:0/1d' });
});

test('quiet hours 21:00–08:00 in Paris: at 22:30 local, deferred to 08:00 the next local day', () => {
  const p = policy({ quietHours: QUIET });
  const cases: Array<[string, string, string]> = [
    // [now, until, what]
    ['2026-01-15T21:30:00Z', '2026-01-16T07:00:00Z', 'winter'],
    ['2026-07-15T20:30:00Z', '2026-07-16T06:00:00Z', 'summer'],
    ['2026-03-28T21:30:00Z', '2026-03-29T06:00:00Z', 'the night clocks go forward (CET → CEST)'],
    ['2026-10-24T20:30:00Z', '2026-10-25T07:00:00Z', 'the night clocks go back (CEST → CET)'],
    ['2026-12-31T21:30:00Z', '2027-01-01T07:00:00Z', 'new year'],
    ['2026-01-16T02:00:00Z', '2026-01-16T07:00:00Z', 'after midnight: the same local day'],
    ['2026-01-15T20:00:00Z', '2026-01-16T07:00:00Z', 'from 21:00 included'],
    ['2026-01-16T06:59:59Z', '2026-01-16T07:00:00Z', 'a second before the end'],
  ];
  for (const [now, until, what] of cases) {
    const d = run(p, { now: Date.parse(now), channel: 'push' });
    assert.deepEqual(d, { kind: 'defer', until: Date.parse(until), rule: 'quiet_hours:21:00-08:00' }, what);
  }
  for (const now of ['2026-01-16T07:00:00Z', '2026-01-15T19:59:59Z', '2026-03-29T06:00:00Z', '2026-10-25T07:00:00Z', '2026-10-25T12:00:00Z']) {
    assert.deepEqual(run(p, { now: Date.parse(now) }), { kind: 'send' }, now);
  }
  // 07:30 CEST on the morning after the spring change is still quiet (05:30Z).
  assertDefer(run(p, { now: Date.parse('2026-03-29T05:30:00Z') }), Date.parse('2026-03-29T06:00:00Z'), 'quiet_hours:21:00-08:00');
});

test('quiet hours that do not wrap midnight (12:00–14:00)', () => {
  const p = policy({ quietHours: { from: '12:00', to: '14:00' } });
  assertDefer(run(p, { now: Date.parse('2026-01-15T12:00:00Z') }), Date.parse('2026-01-15T13:00:00Z'), 'quiet_hours:12:00-14:00'); // 13:00 Paris
  assertDefer(run(p, { now: Date.parse('2026-01-15T11:00:00Z') }), Date.parse('2026-01-15T13:00:00Z'), 'quiet_hours:12:00-14:00'); // 12:00 Paris
  assert.deepEqual(run(p, { now: Date.parse('2026-01-15T13:00:00Z') }), { kind: 'send' }); // 14:00 Paris
  assert.deepEqual(run(p, { now: Date.parse('2026-01-15T10:59:00Z') }), { kind: 'send' }); // 11:59 Paris
  assert.deepEqual(run(p, { now: Date.parse('2026-01-15T22:00:00Z') }), { kind: 'send' }); // 23:00 Paris
});

test("quiet hours follow the profile's time zone; an unknown zone falls back to the policy's", () => {
  const p = policy({ quietHours: QUIET });
  const noonParis = Date.parse('2026-01-15T12:00:00Z'); // 13:00 Paris, 07:00 New York
  assert.deepEqual(run(p, { now: noonParis }), { kind: 'send' });
  assertDefer(run(p, { now: noonParis, timeZone: 'America/New_York' }), Date.parse('2026-01-15T13:00:00Z'), 'quiet_hours:21:00-08:00');
  const eveningParis = Date.parse('2026-01-15T21:30:00Z'); // 22:30 Paris, 16:30 New York
  assert.deepEqual(run(p, { now: eveningParis, timeZone: 'America/New_York' }), { kind: 'send' });
  // New York's own DST change (2026-03-08): 22:30 EST → 08:00 EDT = 12:00Z.
  assertDefer(run(p, { now: Date.parse('2026-03-08T03:30:00Z'), timeZone: 'America/New_York' }), Date.parse('2026-03-08T12:00:00Z'), 'quiet_hours:21:00-08:00');
  for (const timeZone of ['Not/AZone', '', 'local', null, undefined]) {
    assertDefer(run(p, { now: eveningParis, timeZone }), Date.parse('2026-01-16T07:00:00Z'), 'quiet_hours:21:00-08:00');
    assert.deepEqual(run(p, { now: noonParis, timeZone }), { kind: 'send' }, String(timeZone));
  }
  // The policy's default zone itself.
  assertDefer(run(policy({ quietHours: QUIET, defaultTimeZone: 'Asia/Tokyo' }), { now: noonParis }), Date.parse('2026-01-15T23:00:00Z'), 'quiet_hours:21:00-08:00');
});

test('quiet hours whose end the clocks skip or repeat', () => {
  // Paris, 2026-03-29: 02:00 → 03:00. Quiet 01:00–02:30 ends when the clock jumps, at 03:00 CEST = 01:00Z.
  const skip = policy({ quietHours: { from: '01:00', to: '02:30' } });
  assertDefer(run(skip, { now: Date.parse('2026-03-29T00:15:00Z') }), Date.parse('2026-03-29T01:00:00Z'), 'quiet_hours:01:00-02:30');
  assert.deepEqual(run(skip, { now: Date.parse('2026-03-29T01:00:00Z') }), { kind: 'send' });
  // Paris, 2026-10-25: 03:00 → 02:00. 02:30 comes twice: the first ends the quiet period (00:30Z)...
  const repeat = policy({ quietHours: { from: '01:00', to: '02:30' } });
  assertDefer(run(repeat, { now: Date.parse('2026-10-24T23:30:00Z') }), Date.parse('2026-10-25T00:30:00Z'), 'quiet_hours:01:00-02:30');
  // ...and when the clock reads 02:10 again (CET), the second.
  assertDefer(run(repeat, { now: Date.parse('2026-10-25T01:10:00Z') }), Date.parse('2026-10-25T01:30:00Z'), 'quiet_hours:01:00-02:30');
});

test('quiet hours first, then caps as of their end; until is the later of both', () => {
  const nightParis = Date.parse('2026-01-15T22:00:00Z'); // 23:00 Paris; quiet until 07:00Z
  const p = policy({ quietHours: QUIET, caps: [{ channel: 'email', max: 1, within: '1d' }] });
  // The cap frees at 09:00Z, after the quiet hours.
  assertDefer(run(p, { now: nightParis, history: [msg(Date.parse('2026-01-15T09:00:00Z'))] }), Date.parse('2026-01-16T09:00:00Z'), 'cap:email:1/1d');
  // The cap frees at 03:00Z, during them.
  assertDefer(run(p, { now: nightParis, history: [msg(Date.parse('2026-01-15T03:00:00Z'))] }), Date.parse('2026-01-16T07:00:00Z'), 'quiet_hours:21:00-08:00');
  // A cap that frees inside the next quiet hours: deferred to their end.
  const afternoon = Date.parse('2026-01-15T17:00:00Z'); // 18:00 Paris
  assertDefer(run(p, { now: afternoon, history: [msg(Date.parse('2026-01-14T21:00:00Z'))] }), Date.parse('2026-01-16T07:00:00Z'), 'quiet_hours:21:00-08:00');
  // The deferral allowed by maxDeferMs counts from now, not from the end of the quiet hours.
  const weekly = policy({ quietHours: QUIET, caps: [{ channel: 'email', max: 1, within: '7d' }] });
  const sent = msg(Date.parse('2026-01-09T19:00:00Z')); // frees 2026-01-16T19:00Z (20:00 Paris): 21 h after now, 12 h after the quiet hours
  assertDefer(run(weekly, { now: nightParis, history: [sent] }), Date.parse('2026-01-16T19:00:00Z'), 'cap:email:1/7d');
  assert.deepEqual(run(weekly, { now: nightParis, history: [sent], maxDeferMs: 20 * HOUR }), { kind: 'suppress', rule: 'cap:email:1/7d' });
});

test('displacement: a strictly more important message takes the turn of a less important one still waiting', () => {
  const p = policy({ displace: true, caps: [{ channel: 'email', max: 2, within: '7d' }] });
  const digest = { ...msg(NOW + DAY, 'email', 1, 'digest'), waiting: true };
  const history = [msg(NOW - 6 * DAY, 'email', 5, 'm1'), msg(NOW - DAY, 'email', 5, 'm2'), digest];
  // m1 leaves the window in a day: the digest's turn, which the more important message takes.
  assert.deepEqual(run(p, { history, priority: 9 }), { kind: 'defer', until: NOW + DAY, rule: 'cap:email:2/7d', displaced: ['digest'] });
  // Equal priority is not enough: the digest keeps its turn, and the next room is in 6 days.
  assert.deepEqual(run(p, { history, priority: 1 }), { kind: 'suppress', rule: 'cap:email:2/7d' });
  // Without `displace`, first come first served.
  assert.deepEqual(run(policy({ caps: p.caps }), { history, priority: 9 }), { kind: 'suppress', rule: 'cap:email:2/7d' });
  // A message already sent is never displaced, however unimportant.
  const sent = [msg(NOW - HOUR, 'email', 0, 'a'), msg(NOW - 2 * HOUR, 'email', 0, 'b')];
  assert.deepEqual(run(p, { history: sent, priority: 9 }), { kind: 'suppress', rule: 'cap:email:2/7d' });
  // Room for the new one and one waiting message only: the waiting ones keep their turns in order (time, then key).
  const three = policy({ displace: true, caps: [{ channel: 'email', max: 3, within: '7d' }] });
  const tie = [msg(NOW - DAY, 'email', 5, 'x'), { ...msg(NOW + HOUR, 'email', 1, 'b'), waiting: true }, { ...msg(NOW + HOUR, 'email', 1, 'a'), waiting: true }];
  assert.deepEqual(run(three, { history: tie, priority: 5 }), { kind: 'send', displaced: ['b'] });
  assert.deepEqual(run(three, { history: [...tie].reverse(), priority: 5 }), { kind: 'send', displaced: ['b'] });
  // The more important of two waiting messages keeps its turn first.
  const ranked = [msg(NOW - DAY, 'email', 5, 'x'), { ...msg(NOW + 2 * HOUR, 'email', 3, 'late-but-important'), waiting: true }, { ...msg(NOW + HOUR, 'email', 1, 'early'), waiting: true }];
  assert.deepEqual(run(three, { history: ranked, priority: 5 }), { kind: 'send', displaced: ['early'] });
});

test('displacement across caps, and never over quiet hours', () => {
  const p = policy({ displace: true, quietHours: QUIET, caps: [{ channel: 'email', max: 1, within: '7d' }, { channel: 'all', max: 2, within: '7d' }] });
  const history = [msg(NOW - DAY, 'email', 2, 'email-1'), { ...msg(NOW + 2 * HOUR, 'sms', 0, 'sms-w'), waiting: true }];
  // A push fills the cross-channel cap: the waiting SMS gives way.
  assert.deepEqual(run(p, { history, priority: 3, channel: 'push' }), { kind: 'send', displaced: ['sms-w'] });
  // An email is held by the email cap, full of a sent message: nothing to displace.
  assert.deepEqual(run(p, { history, priority: 3 }), { kind: 'suppress', rule: 'cap:email:1/7d' });
  // Equal priority: the SMS keeps its turn; the push waits until the sent email leaves the window.
  assertDefer(run(p, { history, priority: 0, channel: 'push', maxDeferMs: 7 * DAY }), NOW + 6 * DAY, 'cap:all:2/7d');
  // At night: the push waits for the morning, and takes the turn the SMS had then.
  const night = Date.parse('2026-01-15T22:00:00Z');
  const morning = Date.parse('2026-01-16T07:00:00Z');
  const atNight = [msg(night - DAY, 'email', 0, 'e'), { ...msg(morning, 'sms', 0, 's'), waiting: true }];
  assert.deepEqual(run(p, { history: atNight, priority: 3, channel: 'push', now: night }), { kind: 'defer', until: morning, rule: 'quiet_hours:21:00-08:00', displaced: ['s'] });
});

test('decide refuses a policy it cannot read rather than ignore a cap', () => {
  const bad = { caps: [{ channel: 'email', max: 1, within: 'soon' }], defaultTimeZone: 'Europe/Paris' } as PressurePolicyT;
  assert.throws(() => run(bad), /soon/);
  assert.throws(() => run(policy({ quietHours: { from: '9pm', to: '08:00' } })), /quiet hours/);
  // A cap on another channel is not read.
  assert.deepEqual(run(bad, { channel: 'sms' }), { kind: 'send' });
});

// ---------------------------------------------------------------------------------------------
// Properties

const WINDOWS: Record<string, number> = { '30m': 30 * MINUTE, '12h': 12 * HOUR, '1d': DAY, '2d': 2 * DAY, '7d': 7 * DAY };
const ZONES = ['Europe/Paris', 'America/New_York', 'UTC', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Santiago', 'Not/AZone'];
const T_MIN = Date.parse('2026-01-01T00:00:00Z');
const T_MAX = Date.parse('2027-01-01T00:00:00Z');

const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 59)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const capArb: fc.Arbitrary<PressureCapT> = fc.record({
  channel: fc.constantFrom(...CAP_CHANNELS),
  max: fc.integer({ min: 0, max: 4 }),
  within: fc.constantFrom(...Object.keys(WINDOWS)),
});
const policyArb: fc.Arbitrary<PressurePolicyT> = fc.record({
  caps: fc.uniqueArray(capArb, { maxLength: 4, selector: (c) => `${c.channel}|${c.within}` }),
  quietHours: fc.option(fc.record({ from: hhmm, to: hhmm }).filter((q) => q.from !== q.to), { nil: undefined }),
  defaultTimeZone: fc.constantFrom('Europe/Paris', 'America/New_York', 'Asia/Tokyo'),
  displace: fc.constantFrom(true, true, false, undefined),
}, { requiredKeys: ['caps', 'defaultTimeZone', 'displace'] });

const inputArb: fc.Arbitrary<PressureInput> = fc.integer({ min: T_MIN, max: T_MAX }).chain((now) => fc.record({
  policy: policyArb,
  channel: fc.constantFrom(...CHANNELS),
  now: fc.constant(now),
  timeZone: fc.option(fc.constantFrom(...ZONES), { nil: undefined }),
  priority: fc.integer({ min: 0, max: 5 }),
  // Mostly in the past week; some scheduled ahead; times on whole minutes or not.
  history: fc.uniqueArray(fc.record({
    at: fc.oneof(fc.integer({ min: now - 8 * DAY, max: now }), fc.integer({ min: now - 8 * DAY, max: now }).map((t) => t - (t % MINUTE)), fc.integer({ min: now, max: now + DAY })),
    channel: fc.constantFrom(...CHANNELS),
    priority: fc.integer({ min: 0, max: 5 }),
    key: fc.string({ minLength: 1, maxLength: 3 }),
    waiting: fc.boolean(),
  }), { maxLength: 12, selector: (m) => m.key }),
  maxDeferMs: fc.option(fc.constantFrom(HOUR, DAY, 7 * DAY, 30 * DAY), { nil: undefined }),
}, { requiredKeys: ['policy', 'channel', 'now', 'priority', 'history'] }));

/** Checked apart from the module: the local minute of the day by Intl, and whether it is quiet. */
function quietAt(input: PressureInput, t: number): boolean {
  const q = input.policy.quietHours;
  if (q === undefined) return false;
  const zone = input.timeZone !== undefined && input.timeZone !== null && ZONES.slice(0, -1).includes(input.timeZone) ? input.timeZone : input.policy.defaultTimeZone;
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);
  return q.from < q.to ? parts >= q.from && parts < q.to : parts >= q.from || parts < q.to;
}

function countAt(cap: PressureCapT, history: readonly SentMessage[], t: number): number {
  const ms = WINDOWS[cap.within] as number;
  return history.filter((m) => (cap.channel === 'all' || m.channel === cap.channel) && m.at > t - ms).length;
}

const applies = (cap: PressureCapT, channel: Channel): boolean => cap.channel === 'all' || cap.channel === channel;

test('property: a send never makes a cap exceed its max (counting the turns kept by waiting messages), nor falls in quiet hours; only less important waiting messages are displaced', () => {
  let sends = 0;
  let displacements = 0;
  fc.assert(fc.property(inputArb, (input) => {
    const d = decide(input);
    if (d.kind === 'suppress') return;
    for (const key of d.displaced ?? []) {
      displacements++;
      assert.equal(input.policy.displace, true);
      const gone = input.history.find((m) => m.key === key);
      assert.ok(gone !== undefined && gone.waiting === true && gone.priority < input.priority, key);
    }
    if (d.kind !== 'send') return;
    sends++;
    assert.equal(quietAt(input, input.now), false);
    // The messages that do not yield (sent ones, and waiting ones at least as important) all keep their place.
    const yields = (m: SentMessage) => input.policy.displace === true && m.waiting === true && m.priority < input.priority;
    const after = [...input.history.filter((m) => !yields(m)), { at: input.now, channel: input.channel, priority: input.priority, key: '(new)' }];
    for (const cap of input.policy.caps.filter((c) => applies(c, input.channel))) {
      assert.ok(countAt(cap, after, input.now) <= cap.max, `${JSON.stringify(cap)} ${JSON.stringify(d)}`);
    }
  }), { numRuns: 2000 });
  assert.ok(sends > 100 && displacements > 2, `${sends} sends, ${displacements} displacements`);
});

test('property: a deferral is to a later instant, at which the same message is sent', () => {
  let defers = 0;
  fc.assert(fc.property(inputArb, (input) => {
    const d = decide(input);
    if (d.kind !== 'defer') return;
    defers++;
    assert.ok(d.until > input.now, JSON.stringify(d));
    assert.ok(d.rule.startsWith('cap:') || d.rule.startsWith('quiet_hours:'), d.rule);
    const again = decide({ ...input, now: d.until });
    assert.equal(again.kind, 'send', `${iso(input.now)} → ${iso(d.until)}: ${JSON.stringify(again)}`);
    assert.equal(quietAt(input, d.until), false);
    // A cap that defers stays within the allowed deferral (quiet hours may go beyond it).
    if (d.rule.startsWith('cap:')) assert.ok(d.until <= input.now + (input.maxDeferMs ?? DAY));
  }), { numRuns: 2000 });
  assert.ok(defers > 100, `${defers} deferrals`);
});

test('property: without displacement, a deferral is to the earliest instant the message can be sent', () => {
  let defers = 0;
  fc.assert(fc.property(inputArb, (random) => {
    const input = { ...random, policy: { ...random.policy, displace: false } };
    const d = decide(input);
    if (d.kind !== 'defer') return;
    defers++;
    // A millisecond before, the message is not sent, and would wait at least as long.
    const before = decide({ ...input, now: d.until - 1 });
    assert.notEqual(before.kind, 'send', `${iso(d.until - 1)}: ${JSON.stringify(before)}`);
    assert.ok(before.kind !== 'defer' || before.until === d.until, JSON.stringify(before));
    // A cap that defers stays within the allowed deferral (quiet hours may go beyond it).
    if (d.rule.startsWith('cap:')) assert.ok(d.until <= input.now + (input.maxDeferMs ?? DAY));
  }), { numRuns: 2000 });
  assert.ok(defers > 100, `${defers} deferrals`);
});

test('property: decisions are deterministic and do not depend on the order of the history', () => {
  fc.assert(fc.property(inputArb, fc.integer(), (input, seed) => {
    const first = decide(input);
    assert.deepEqual(decide(input), first);
    const shuffled = input.history.map((m, i) => ({ m, r: Math.sin(seed + i) })).sort((a, b) => a.r - b.r).map(({ m }) => m);
    assert.deepEqual(decide({ ...input, history: shuffled }), first);
    assert.deepEqual(decide({ ...input, history: structuredClone(input.history) }), first);
  }), { numRuns: 1000 });
});

test('property: suppressions name a cap whose release is beyond maxDeferMs', () => {
  let suppressions = 0;
  fc.assert(fc.property(inputArb, (input) => {
    const d = decide(input);
    if (d.kind !== 'suppress') return;
    suppressions++;
    const cap = input.policy.caps.find((c) => `cap:${c.channel}:${c.max}/${c.within}` === d.rule);
    assert.ok(cap !== undefined && applies(cap, input.channel), d.rule);
    // Still full at the latest instant a deferral could have reached.
    assert.ok(countAt(cap, input.history, input.now + (input.maxDeferMs ?? DAY)) >= cap.max);
  }), { numRuns: 1000 });
  assert.ok(suppressions > 50, `${suppressions} suppressions`);
});
