/**
 * Due dates and deadlines: what is left before a rights request's due date or a breach's
 * 72-hour notification deadline.
 *
 * @example
 *   splitHours(-3.5) // { overdue: true, hours: 3, minutes: 30 }
 *   daysUntil('2026-07-01T00:00:00Z', Date.parse('2026-06-29T12:00:00Z')) // 2
 */

/** Hours left (negative once past) as whole hours and minutes, with the sign apart. */
export function splitHours(hoursLeft: number): { overdue: boolean; hours: number; minutes: number } {
  const minutes = Math.round(Math.abs(hoursLeft) * 60);
  return { overdue: hoursLeft < 0, hours: Math.floor(minutes / 60), minutes: minutes % 60 };
}

/** Whole days from `now` to `iso` (negative once past), for due dates. */
export function daysUntil(iso: string, now: number): number {
  return Math.ceil((new Date(iso).getTime() - now) / 86_400_000);
}

/** `YYYY-MM-DD` of a time, in UTC (the API's day boundaries). */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
