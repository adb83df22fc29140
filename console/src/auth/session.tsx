/**
 * The session: who is logged in (user, role, permissions, locale), the CSRF token the API client
 * sends, and the current workspace. Pages read it with `useSession()`; what a role may not do is
 * hidden here, but the server refuses it anyway (the console is a convenience, not the guard).
 *
 * @example
 *   const { user, can, workspaceId } = useSession();
 *   if (can('segments.write')) ...
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, setCsrfToken, setUnauthorizedHandler } from '../api/client';
import i18n from '../i18n';

export type Role = 'admin' | 'dpo' | 'marketer' | 'analyst' | 'viewer';
export type Locale = 'en' | 'fr';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  locale: Locale;
}

interface MeAnswer {
  user: User;
  csrfToken: string;
  permissions?: string[];
}

export interface Workspace {
  id: string;
  name: string;
}

export interface Session {
  /** null while loading or when logged out. */
  user: User | null;
  loading: boolean;
  permissions: string[];
  workspaces: Workspace[];
  workspaceId: string;
  setWorkspaceId(id: string): void;
  /** True when the user's role may do `permission` (when the server sent permissions), else by role. */
  can(permission: string): boolean;
  /** True for the roles that see identifiers in clear and the privacy pages. */
  isPrivacyRole: boolean;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
  setLocale(locale: Locale): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

/**
 * What a role may do when the server sent no permission list (mirrors the server's matrix in
 * src/auth/roles.ts: `<area>.read` / `<area>.write` ...). The server's answer always wins.
 */
const WRITERS: Record<string, Role[]> = {
  sources: ['admin', 'marketer'],
  imports: ['admin', 'marketer'],
  segments: ['admin', 'marketer', 'analyst'],
  'computed-traits': ['admin', 'marketer', 'analyst'],
  journeys: ['admin', 'marketer'],
  destinations: ['admin', 'marketer'],
  models: ['admin', 'marketer', 'analyst'],
  profiles: ['admin', 'dpo'],
};
const ADMIN_DPO = new Set(['privacy', 'audit', 'personal-data']);

export function roleMay(role: Role, permission: string): boolean {
  const [area = '', action = 'read'] = permission.split('.');
  if (role === 'admin') return true;
  if (ADMIN_DPO.has(area) || (area === 'segments' && action === 'approve')) return role === 'dpo';
  if (area === 'users' || area === 'api-keys' || area === 'workspaces' && action !== 'read') return false;
  if (action === 'read') return true;
  return (WRITERS[area] ?? []).includes(role);
}

const WORKSPACE_KEY = 'ensemble.workspace';

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<MeAnswer | null>(null);
  const [loading, setLoading] = useState(true);
  const [workspaces, setWorkspaces] = useState<Workspace[]>([]);
  const [workspaceId, setWorkspaceIdState] = useState<string>(() => localStorage.getItem(WORKSPACE_KEY) ?? '');

  const accept = useCallback(async (answer: MeAnswer) => {
    setCsrfToken(answer.csrfToken);
    if (answer.user.locale && answer.user.locale !== i18n.language) await i18n.changeLanguage(answer.user.locale);
    const list = await api.get<{ workspaces: Workspace[] }>('/api/workspaces').then((r) => r.workspaces).catch(() => []);
    setWorkspaces(list);
    setWorkspaceIdState((current) => (list.some((w) => w.id === current) ? current : list[0]?.id ?? ''));
    setMe(answer);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => { setMe(null); setCsrfToken(null); });
    api.get<MeAnswer>('/api/auth/me').then(accept).catch(() => setMe(null)).finally(() => setLoading(false));
  }, [accept]);

  const session = useMemo<Session>(() => {
    const user = me?.user ?? null;
    const permissions = me?.permissions ?? [];
    return {
      user, loading, permissions, workspaces, workspaceId,
      setWorkspaceId: (id) => { localStorage.setItem(WORKSPACE_KEY, id); setWorkspaceIdState(id); },
      can: (wanted) => {
        if (!user) return false;
        // Permissions are `area.action` (src/auth/roles.ts); `area:action` is accepted too.
        const permission = wanted.replace(':', '.');
        if (me?.permissions && me.permissions.length > 0) return me.permissions.includes(permission) || me.permissions.includes('*');
        return roleMay(user.role, permission);
      },
      isPrivacyRole: user?.role === 'admin' || user?.role === 'dpo',
      login: async (email, password) => {
        const answer = await api.post<MeAnswer>('/api/auth/login', { email, password });
        setCsrfToken(answer.csrfToken);
        // The login answer may not carry permissions: read the full session.
        await accept(await api.get<MeAnswer>('/api/auth/me').catch(() => answer));
      },
      logout: async () => {
        await api.post('/api/auth/logout').catch(() => undefined);
        setCsrfToken(null);
        setMe(null);
      },
      setLocale: async (locale) => {
        await i18n.changeLanguage(locale);
        if (!me) return;
        const { user: updated } = await api.put<{ user: User }>('/api/auth/me', { locale });
        setMe({ ...me, user: updated });
      },
    };
  }, [me, loading, workspaces, workspaceId, accept]);

  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
