/**
 * Wall-clock times in a time zone, with the platform's own zone data (Intl): the next instant
 * when it is `hh:mm` somewhere, across midnight and daylight-saving changes.
 *
 * @example
 *   nextTimeOfDay(Date.parse('2026-12-03T22:30:00Z'), '08:00', 'Europe/Paris')  // 2026-12-04T07:00:00Z
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's wall-clock time at `t`, as if it were UTC (ms). */
function wallClock(t: number, zone: string): number {
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
}

/** The instant whose wall-clock time in `zone` is `wall` (as UTC ms); the later one in a DST overlap. */
function instantOf(wall: number, zone: string): number {
  let t = wall - (wallClock(wall, zone) - wall);
  // One correction settles the offset on either side of a change; a wall time skipped by a
  // spring-forward lands an hour later, as clocks do.
  t = wall - (wallClock(t, zone) - t);
  return t;
}

export function nextTimeOfDay(now: number, hhmm: string, zone: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const local = new Date(wallClock(now, zone));
  for (let day = 0; day < 3; day++) {
    const wall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + day, h, m);
    const t = instantOf(wall, zone);
    if (t > now) return t;
  }
  return now + 86_400_000;
}

/** The weekday (0 = Sunday) at `t` in `zone`. */
export function weekdayIn(t: number, zone: string): number {
  return new Date(wallClock(t, zone)).getUTCDay();
}
