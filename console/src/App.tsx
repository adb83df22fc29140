/** Login outside the frame; every other route inside it, each page loaded on demand. */
import { Route, Routes } from 'react-router';
import { RequireLogin, useSession } from './auth';
// Direct imports (not the components barrel): the first page load must not carry the chart library.
import { Layout } from './components/Layout';
import { routes } from './pages/routes';
import Login from './pages/login';
import NotFound from './pages/not-found';

export function App() {
  const { can } = useSession();
  const nav = routes.filter((r) => r.nav && (!r.permission || can(r.permission))).map((r) => ({ path: r.path, name: r.name }));
  return (
    <Routes>
      <Route path="/login" element={<Login />} />
      {routes.map((r) => (
        <Route key={r.path} path={r.path} element={<RequireLogin><Layout nav={nav}><r.page /></Layout></RequireLogin>} />
      ))}
      <Route path="*" element={<RequireLogin><Layout nav={nav}><NotFound /></Layout></RequireLogin>} />
    </Routes>
  );
}
