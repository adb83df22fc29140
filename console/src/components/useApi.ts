/**
 * Loads data for a page and reloads when `deps` change; keeps the last error for ErrorMessage.
 *
 * @example
 *   const { data, error, loading, reload } = useApi(() => api.get<Overview>(ws(id, '/analytics/overview')), [id]);
 */
import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';

export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): { data: T | undefined; error: unknown; loading: boolean; reload(): void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    loadRef.current(ctrl.signal)
      .then((d) => { if (!ctrl.signal.aborted) { setData(d); setError(null); } })
      .catch((e) => { if (!ctrl.signal.aborted) setError(e); })
      .finally(() => { if (!ctrl.signal.aborted) setLoading(false); });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}
