/**
 * `new Date(ms).toISOString()`, faster: collection formats three or four times per event and
 * each `toISOString` costs ~0.8 µs here. The text up to the second is cached in a few slots
 * (events of one request fall within a few seconds of each other); the milliseconds are
 * appended. Anything unusual (fractions, before 1970, after 9999) takes the `Date` path.
 *
 * @example
 *   isoTime(1764745200123); // '2025-12-03T07:00:00.123Z'
 */
const SLOTS = 8;
const seconds = new Float64Array(SLOTS).fill(-1);
const prefixes: string[] = new Array<string>(SLOTS).fill('');
/** 9999-12-31T23:59:59.999Z: later years get six digits and a sign. */
const MAX_MS = 253402300799999;

export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  const slot = second % SLOTS;
  if (seconds[slot] !== second) {
    prefixes[slot] = new Date(second * 1000).toISOString().slice(0, 20);
    seconds[slot] = second;
  }
  const milli = ms - second * 1000;
  return `${prefixes[slot] as string}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
