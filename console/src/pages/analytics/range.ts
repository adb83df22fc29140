/** The analytics time range: ISO dates, the last 30 days by default (as the API's). */
export interface Range { from: string; to: string }

export function lastDays(days: number, now = new Date()): Range {
  const to = now.toISOString().slice(0, 10);
  const from = new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from, to };
}
