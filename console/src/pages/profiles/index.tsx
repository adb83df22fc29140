/** Profiles: search by any identifier value (or a profile id), a server-paginated list, a click opens the 360° view. */
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import type { ProfileListItem } from '../../api/types';
import { useSession } from '../../auth';
import { Page, Panel, Table, TextField, formatDate } from '../../components';

export default function Profiles() {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const navigate = useNavigate();
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const submit = (e: FormEvent) => { e.preventDefault(); setSearch(text.trim()); };
  return (
    <Page title={t('profiles.title')}>
      <Panel>
        <form className="row" role="search" onSubmit={submit}>
          <TextField label={t('profiles.search')} name="profile-search" hint={t('profiles.searchHint')} value={text} onChange={setText} />
          <div className="field"><button type="submit" className="primary">{t('common.search')}</button></div>
        </form>
      </Panel>
      <Table<ProfileListItem>
        caption={search ? t('profiles.results', { search }) : t('profiles.list')}
        deps={[workspaceId, search]}
        rowKey={(p) => p.id}
        onRowClick={(p) => navigate(`/profiles/${encodeURIComponent(p.id)}`)}
        fetchPage={(cursor, limit, signal) => api.get<{ items: ProfileListItem[]; nextCursor: string | null }>(ws(workspaceId, '/profiles'), { search, cursor, limit }, signal)}
        empty={search ? t('profiles.noMatch') : t('common.empty')}
        columns={[
          { key: 'id', header: t('profiles.id'), cell: (p) => <code>{p.id}</code> },
          { key: 'identifiers', header: t('profiles.identifiers'), cell: (p) => p.identifiers.slice(0, 4).map((i) => `${i.type}: ${i.value ?? '•••'}`).join(', ') },
          { key: 'traits', header: t('profiles.traits'), cell: (p) => Object.entries(p.traitsPreview).slice(0, 3).map(([k, v]) => `${k}: ${v === null ? '•••' : String(v)}`).join(', ') },
          { key: 'updated', header: t('profiles.updated'), cell: (p) => formatDate(p.updatedAt) },
        ]}
      />
    </Page>
  );
}
