/**
 * The audit log: verify its hash chain (valid, or the first entries where it breaks and how),
 * and read it oldest first, page by page (the server's `afterSeq` cursor). Identical reads of one
 * flush window are one entry on the server; the entry says how many and when the last was.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AuditVerification, PrivacyApi } from './api';
import { ErrorNotice, Loading } from './parts';
import { formatDate, formatNumber, useApi } from '../../components';

const PAGE = 50;

export function AuditSection({ api }: { api: PrivacyApi }) {
  // The last verification's problems, to mark the entries concerned in the list below.
  const [problems, setProblems] = useState<AuditVerification['problems']>([]);
  return (
    <div className="privacy-section">
      <Verify api={api} onResult={(r) => setProblems(r?.problems ?? [])} />
      <Entries api={api} problems={problems} />
    </div>
  );
}

function Verify({ api, onResult }: { api: PrivacyApi; onResult(r: AuditVerification | null): void }) {
  const { t } = useTranslation();
  const [result, setResult] = useState<AuditVerification | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(undefined);
    try { const r = await api.verifyAudit(); setResult(r); onResult(r); } catch (err) { setError(err); setResult(null); onResult(null); } finally { setBusy(false); }
  };
  return (
    <section aria-labelledby="verify-title" className="panel">
      <h2 id="verify-title">{t('privacy.audit.verifyTitle')}</h2>
      <p>{t('privacy.audit.verifyIntro')}</p>
      <button type="button" onClick={verify} disabled={busy}>{t('privacy.audit.verify')}</button>
      <ErrorNotice error={error} />
      {result ? (
        <div role="status" data-testid="audit-verification" data-ok={String(result.ok)} className={result.ok ? 'privacy-ok' : 'privacy-broken'}>
          <p><strong>{result.ok ? t('privacy.audit.valid') : t('privacy.audit.broken', { count: result.problemCount })}</strong></p>
          <p>{t('privacy.audit.checked', { count: result.entries, n: formatNumber(result.entries) })}</p>
          {result.head ? <p>{t('privacy.audit.head', { seq: result.head.seq })} <code className="privacy-hash">{result.head.hash}</code></p> : null}
          {result.problems.length > 0 ? (
            <table className="table">
              <caption>{t('privacy.audit.problems')}</caption>
              <thead><tr><th scope="col">{t('privacy.audit.seq')}</th><th scope="col">{t('privacy.audit.kind')}</th><th scope="col">{t('privacy.audit.message')}</th></tr></thead>
              <tbody>{result.problems.map((p, i) => <tr key={i}><td>{p.seq}</td><td>{t(`privacy.audit.kinds.${p.kind}`)}</td><td>{p.message}</td></tr>)}</tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function Entries({ api, problems }: { api: PrivacyApi; problems: AuditVerification['problems'] }) {
  const { t } = useTranslation();
  // The cursors of the pages already seen, to go back without the server keeping state.
  const [cursors, setCursors] = useState<number[]>([0]);
  const after = cursors[cursors.length - 1] ?? 0;
  const page = useApi(() => api.audit(after, PAGE), [api, after]);
  return (
    <section aria-labelledby="entries-title" className="panel">
      <h2 id="entries-title">{t('privacy.audit.entries')}</h2>
      <Loading when={page.loading} />
      <ErrorNotice error={page.error} />
      {page.data ? (
        <div className="table-wrap">
          <table className="table" data-testid="audit-table">
            <thead><tr><th scope="col">{t('privacy.audit.seq')}</th><th scope="col">{t('privacy.audit.time')}</th><th scope="col">{t('privacy.audit.actor')}</th><th scope="col">{t('privacy.audit.action')}</th><th scope="col">{t('privacy.audit.resource')}</th><th scope="col">{t('privacy.audit.status')}</th></tr></thead>
            <tbody>
              {page.data.entries.map((e) => {
                const d = (typeof e.detail === 'object' && e.detail !== null ? e.detail : {}) as { status?: unknown; reads?: unknown; lastReadAt?: unknown };
                const problem = problems.find((p) => p.seq === e.seq);
                return (
                  <tr key={e.seq} className={problem ? 'privacy-tampered' : ''} data-problem={problem?.kind}>
                    <td>{e.seq}{problem ? <> <span className="badge privacy-status-rejected">{t(`privacy.audit.kinds.${problem.kind}`)}</span></> : null}</td><td>{formatDate(e.time)}</td><td>{e.actor}</td><td><code>{e.action}</code>{typeof d.reads === 'number' && typeof d.lastReadAt === 'number'
                      ? <div className="muted">{t('privacy.audit.reads', { count: d.reads, time: formatDate(d.lastReadAt) })}</div> : null}</td>
                    <td className="privacy-wrap"><code>{e.resource}</code></td><td>{d.status === undefined ? '—' : String(d.status)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <div className="privacy-buttons">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>{t('common.previous')}</button>
        <button type="button" disabled={!page.data || page.data.nextAfterSeq === null} onClick={() => page.data?.nextAfterSeq != null && setCursors([...cursors, page.data.nextAfterSeq])}>{t('common.next')}</button>
      </div>
    </section>
  );
}
