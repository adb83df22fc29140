/**
 * Pages of a list the API answers whole (journeys, destinations, models): the cursor is the
 * offset, so the shared server-paginated Table works unchanged. These lists hold tens of items per
 * workspace, not millions; the profile and event lists are paginated by the server itself.
 *
 * @example
 *   pageOfList(['a', 'b', 'c'], undefined, 2)   // { items: ['a', 'b'], nextCursor: '2' }
 */
import type { PageOf } from '../../components/Table';

export function pageOfList<T>(all: readonly T[], cursor: string | undefined, limit: number): PageOf<T> {
  const from = cursor ? Number(cursor) : 0;
  const items = all.slice(from, from + limit);
  return { items, nextCursor: from + limit < all.length ? String(from + limit) : null };
}
