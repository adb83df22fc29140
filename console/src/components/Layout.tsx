/**
 * The frame around every page once logged in: a skip link, the navigation built from the routes
 * list (hiding what the role may not open), the workspace picker, the language switch and logout.
 * On narrow screens the navigation folds behind a menu button.
 */
import { Suspense, useState, type ReactNode } from 'react';
import { NavLink } from 'react-router';
import { useTranslation } from 'react-i18next';
import { useSession } from '../auth';
import { LanguageSwitch } from './LanguageSwitch';

export interface NavItem {
  path: string;
  name: string;
}

export function Layout({ nav, children }: { nav: NavItem[]; children: ReactNode }) {
  const { t } = useTranslation();
  const session = useSession();
  const [open, setOpen] = useState(false);
  return (
    <div className="app">
      <a className="skip-link" href="#main">{t('layout.skip')}</a>
      <header className="topbar">
        <button type="button" className="menu-button" aria-expanded={open} aria-controls="main-nav" onClick={() => setOpen(!open)}>
          {t('layout.menu')}
        </button>
        <span className="brand">Ensemble</span>
        {session.workspaces.length > 1 && (
          <label className="workspace-picker">
            <span>{t('layout.workspace')}</span>
            <select value={session.workspaceId} onChange={(e) => session.setWorkspaceId(e.target.value)}>
              {session.workspaces.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
            </select>
          </label>
        )}
        <LanguageSwitch />
        <span className="who" title={session.user?.email}>{session.user?.name || session.user?.email} · {session.user ? t(`layout.roles.${session.user.role}`) : ''}</span>
        <button type="button" onClick={() => void session.logout()}>{t('layout.logout')}</button>
      </header>
      <div className="body">
        <nav id="main-nav" className={`sidenav ${open ? 'open' : ''}`} aria-label={t('layout.navigation')}>
          <ul>
            {nav.map((item) => (
              <li key={item.path}>
                <NavLink to={item.path} end={item.path === '/'} onClick={() => setOpen(false)}>{t(`${item.name}.title`)}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {!session.workspaceId ? <p>{t('layout.noWorkspace')}</p> : <Suspense fallback={<p role="status">{t('common.loading')}</p>}>{children}</Suspense>}
        </main>
      </div>
    </div>
  );
}
