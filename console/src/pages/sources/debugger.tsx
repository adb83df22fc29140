/**
 * The live event debugger of one source: the last events the collector accepted or rejected
 * (with the error code), then new ones as they arrive over Server-Sent Events. Personal values
 * are masked by the server; nothing is kept in the browser beyond the last 100 lines.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import type { DebuggerEntry } from '../../api/types';
import { ErrorMessage, formatDate } from '../../components';

const MAX = 100;

function keyOf(e: DebuggerEntry): string {
  return e.status === 'accepted' ? `a:${e.messageId}:${e.receivedAt}` : `r:${e.code}:${e.receivedAt}:${e.message}`;
}

export function Debugger({ workspaceId, sourceId }: { workspaceId: string; sourceId: string }) {
  const { t } = useTranslation();
  const [entries, setEntries] = useState<DebuggerEntry[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(false);
  const [paused, setPaused] = useState(false);

  useEffect(() => {
    if (paused) return;
    let closed = false;
    const base = ws(workspaceId, `/sources/${encodeURIComponent(sourceId)}/debugger`);
    const add = (list: DebuggerEntry[]) => setEntries((prev) => {
      const seen = new Set(prev.map(keyOf));
      const fresh = list.filter((e) => !seen.has(keyOf(e)));
      return [...fresh.reverse(), ...prev].slice(0, MAX);
    });
    api.get<{ items: DebuggerEntry[] }>(`${base}/recent`)
      .then((r) => { if (!closed) add(r.items); })
      .catch((e) => { if (!closed) setError(e); });
    const source = new EventSource(base);
    source.onopen = () => { setLive(true); setError(null); };
    source.onerror = () => setLive(false);
    source.onmessage = (m) => {
      try { add([JSON.parse(m.data as string) as DebuggerEntry]); } catch { /* not an entry (keep-alive) */ }
    };
    return () => { closed = true; source.close(); setLive(false); };
  }, [workspaceId, sourceId, paused]);

  return (
    <div className="debugger">
      <div className="row">
        <span role="status" className={live ? 'ok' : 'muted'}>{live ? t('sources.debuggerLive') : t('sources.debuggerOffline')}</span>
        <button type="button" onClick={() => setPaused(!paused)}>{paused ? t('sources.resume') : t('sources.pause')}</button>
        <button type="button" onClick={() => setEntries([])}>{t('sources.clear')}</button>
      </div>
      <ErrorMessage error={error} />
      <div className="table-wrap">
        <table className="table" data-testid="debugger">
          <caption>{t('sources.debuggerCaption')}</caption>
          <thead><tr><th scope="col">{t('sources.received')}</th><th scope="col">{t('sources.status')}</th><th scope="col">{t('sources.type')}</th><th scope="col">{t('sources.detail')}</th></tr></thead>
          <tbody aria-live="polite">
            {entries.map((e) => (
              <tr key={keyOf(e)} data-status={e.status}>
                <td data-label={t('sources.received')}>{formatDate(e.receivedAt)}</td>
                <td data-label={t('sources.status')}><span className={`badge ${e.status}`}>{t(`sources.${e.status}`)}</span></td>
                <td data-label={t('sources.type')}>{e.status === 'accepted' ? `${e.type}${e.event ? ` · ${e.event}` : ''}` : <code className="error-code">{e.code}</code>}</td>
                <td data-label={t('sources.detail')}>{e.status === 'accepted' ? <code>{e.messageId}</code> : e.message}</td>
              </tr>
            ))}
            {entries.length === 0 && <tr><td colSpan={4} className="empty">{t('sources.debuggerEmpty')}</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}
