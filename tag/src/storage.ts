/**
 * The tag's only footprint on the device: a first-party cookie and localStorage entries, all
 * prefixed `ensemble_`. Nothing is written while `allowed` is false (a strict source before
 * consent); `clear()` removes every entry (withdrawal).
 *
 * @example
 *   const st = new DeviceStorage(false);
 *   st.set('aid', 'a-1');      // ignored: not allowed yet
 *   st.allow(); st.set('aid', 'a-1'); st.get('aid'); // 'a-1'
 */
const PREFIX = 'ensemble_';
const KEYS = ['aid', 'uid', 'consent', 'queue'];
/** The anonymous id also lives in a cookie, so the site's own server can read it. */
const COOKIE_KEYS = ['aid'];
const YEAR = 365 * 24 * 3600;

function local(): Storage | null {
  try { return window.localStorage; } catch { return null; } // blocked storage (privacy settings)
}

function readCookie(name: string): string | null {
  for (const part of document.cookie.split('; ')) {
    const i = part.indexOf('=');
    if (part.slice(0, i) === name) {
      try { return decodeURIComponent(part.slice(i + 1)); } catch { return null; }
    }
  }
  return null;
}

function writeCookie(name: string, value: string, maxAge: number): void {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${name}=${encodeURIComponent(value)}; Max-Age=${maxAge}; Path=/; SameSite=Lax${secure}`;
}

export class DeviceStorage {
  constructor(private allowed: boolean) {}

  allow(): void {
    this.allowed = true;
  }

  /** Reading is always possible: it stores nothing (a strict source finds a grant given before). */
  get(key: string): string | null {
    const name = PREFIX + key;
    const v = local()?.getItem(name) ?? null;
    return v ?? (COOKIE_KEYS.includes(key) ? readCookie(name) : null);
  }

  /** `force` writes a record that holds no identifier (a standard source's refusal). */
  set(key: string, value: string | null, force = false): void {
    if (!this.allowed && !force && value !== null) return;
    const name = PREFIX + key;
    try {
      if (value === null) local()?.removeItem(name);
      else local()?.setItem(name, value);
    } catch { /* quota or blocked: the tag keeps working from memory */ }
    if (COOKIE_KEYS.includes(key)) writeCookie(name, value ?? '', value === null ? 0 : YEAR);
  }

  /** Removes everything the tag stored and stops storing until `allow()`. */
  clear(): void {
    this.allowed = false;
    for (const k of KEYS) this.set(k, null);
  }
}
