/** Login with email and password; the language can be switched before logging in. */
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../auth';
import { ErrorMessage } from '../../components/ErrorMessage';
import { TextField } from '../../components/Field';
import { LanguageSwitch } from '../../components/LanguageSwitch';

export default function Login() {
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const next = params.get('next');
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  if (session.user) return <Navigate to={target} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.login(email, password);
      navigate(target, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form className="login-form" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{t('login.title')}</h1>
        <p className="muted">{t('login.intro')}</p>
        <TextField label={t('login.email')} type="email" name="email" autoComplete="username" value={email} onChange={setEmail} required />
        <TextField label={t('login.password')} type="password" name="password" autoComplete="current-password" value={password} onChange={setPassword} required />
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>{t('login.submit')}</button>
        <LanguageSwitch />
      </form>
    </main>
  );
}
