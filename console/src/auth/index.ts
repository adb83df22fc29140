export { SessionProvider, useSession, roleMay, type Role, type Locale, type User, type Session, type Workspace } from './session';
export { RequireLogin } from './require-login';
