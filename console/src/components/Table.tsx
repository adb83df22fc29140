/**
 * A table whose pages come from the server (`limit` + `cursor`), so it stays fast with a million
 * rows: it never loads more than one page, and remembers the cursors it passed to go back.
 *
 * @example
 *   <Table caption={t('profiles.list')} columns={[{ key: 'id', header: 'Id', cell: (p) => p.id }]}
 *     rowKey={(p) => p.id} fetchPage={(cursor, limit) => api.get(ws(id, '/profiles'), { cursor, limit })} deps={[id]} />
 */
import { useEffect, useRef, useState, type DependencyList, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from './ErrorMessage';

export interface Column<T> {
  key: string;
  header: string;
  cell(row: T): ReactNode;
}

export interface PageOf<T> {
  items: T[];
  nextCursor?: string | null;
}

interface Props<T> {
  caption: string;
  columns: Column<T>[];
  rowKey(row: T): string;
  fetchPage(cursor: string | undefined, limit: number, signal: AbortSignal): Promise<PageOf<T>>;
  /** When any of these change, the table goes back to the first page. */
  deps?: DependencyList;
  pageSize?: number;
  onRowClick?(row: T): void;
  empty?: string;
}

export function Table<T>({ caption, columns, rowKey, fetchPage, deps = [], pageSize = 50, onRowClick, empty }: Props<T>) {
  const { t } = useTranslation();
  // cursors[i] is the cursor that loads page i (undefined for the first).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<PageOf<T> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const index = cursors.length - 1;

  // Back to the first page when the query changes (not on the first render: that would load it twice).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    setCursors([undefined]);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    fetchPage(cursors[index], pageSize, ctrl.signal)
      .then((p) => { if (!ctrl.signal.aborted) { setPage(p); setError(null); } })
      .catch((e) => { if (!ctrl.signal.aborted) setError(e); })
      .finally(() => { if (!ctrl.signal.aborted) setLoading(false); });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cursors]);

  const rows = page?.items ?? [];
  return (
    <div className="table-wrap" aria-busy={loading}>
      <ErrorMessage error={error} />
      <table className="table">
        <caption>{caption}</caption>
        <thead>
          <tr>{columns.map((c) => <th key={c.key} scope="col">{c.header}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr
              key={rowKey(row)}
              className={onRowClick ? 'clickable' : undefined}
              tabIndex={onRowClick ? 0 : undefined}
              onClick={onRowClick ? () => onRowClick(row) : undefined}
              onKeyDown={onRowClick ? (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onRowClick(row); } } : undefined}
            >
              {columns.map((c) => <td key={c.key} data-label={c.header}>{c.cell(row)}</td>)}
            </tr>
          ))}
          {!loading && rows.length === 0 && !error && (
            <tr><td colSpan={columns.length} className="empty">{empty ?? t('common.empty')}</td></tr>
          )}
        </tbody>
      </table>
      <nav className="pager" aria-label={t('common.pagination')}>
        <button type="button" disabled={index === 0 || loading} onClick={() => setCursors((c) => c.slice(0, -1))}>{t('common.previous')}</button>
        <span>{t('common.page', { n: index + 1 })}</span>
        <button type="button" disabled={!page?.nextCursor || loading} onClick={() => setCursors((c) => [...c, page?.nextCursor ?? undefined])}>{t('common.next')}</button>
      </nav>
    </div>
  );
}
