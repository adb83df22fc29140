/**
 * Test helpers for the web console in a real Chromium: a real server (test/helpers/server.ts)
 * with one user per role created through the users API, a headless browser, a login through the
 * login page as a person would, and screenshots saved under test-artifacts/console/<page>.png.
 *
 * @example
 *   const c = await startConsole();
 *   const page = await c.login('marketer');
 *   await page.getByRole('link', { name: 'Sources' }).click();
 *   await c.screenshot(page, 'sources');
 *   await c.close();
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONSOLE_DIST } from '../../src/api/console-static.js';
import { removeDir, startServer, type TestServer } from './server.js';
import { CHROMIUM, launchChromium } from './tag-browser.js';

export { CHROMIUM, eventually } from './tag-browser.js';

export const ROLES = ['admin', 'dpo', 'marketer', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Where screenshots go (git-ignored): the repository's test-artifacts/console/. */
export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/console/', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

// CI installs Chromium; elsewhere the tests say why they did not run.
export const skip = !existsSync(CHROMIUM) && !process.env.CI ? 'Chromium is not installed (apt-get install chromium)' : false;

export interface Credentials {
  email: string;
  password: string;
}

/** The known test users, one per role. */
export const USERS: Record<Role, Credentials> = Object.fromEntries(
  ROLES.map((role) => [role, { email: `${role}@console.test`, password: `console-${role}-password-42` }]),
) as Record<Role, Credentials>;

export interface ConsoleTest {
  s: TestServer;
  browser: Browser;
  users: Record<Role, Credentials>;
  /** A fresh browser context (own cookies) logged in as `role` through the login page, on Home. */
  login(role: Role, opts?: { viewport?: { width: number; height: number }; locale?: string }): Promise<Page>;
  /** A fresh context on the login page, not logged in. */
  open(path?: string, opts?: { viewport?: { width: number; height: number }; locale?: string }): Promise<Page>;
  /** Saves a full-page screenshot as test-artifacts/console/<name>.png; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/** Builds the console when console/dist is missing (npm test builds it first; this is for single-file runs). */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(CONSOLE_DIST, 'index.html'))) return;
  const built = spawnSync('npm', ['run', 'build:console'], { cwd: REPO, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build:console failed');
}

/** Creates the users of every role with the admin token (admin only API). */
export async function createUsers(s: TestServer): Promise<void> {
  for (const role of ROLES) {
    const res = await s.api('POST', '/api/users', { email: USERS[role].email, name: `Test ${role}`, role, password: USERS[role].password, locale: 'en' });
    if (res.status !== 201 && res.status !== 200) throw new Error(`creating the ${role} user answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
}

export async function startConsole(overrides: Record<string, unknown> = {}): Promise<ConsoleTest> {
  ensureConsoleBuilt();
  const s = await startServer(overrides);
  await createUsers(s);
  const browser = await launchChromium();
  const contexts: BrowserContext[] = [];
  const open = async (path = '/login', opts: { viewport?: { width: number; height: number }; locale?: string } = {}) => {
    // Clipboard permissions: the copy buttons are tested by reading back what they copied.
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 860 }, locale: opts.locale ?? 'en-GB', permissions: ['clipboard-read', 'clipboard-write'] });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(s.url + path);
    return page;
  };
  return {
    s, browser, users: USERS, open,
    async login(role, opts = {}) {
      const page = await open('/login', opts);
      await page.locator('input[name="email"]').fill(USERS[role].email);
      await page.locator('input[name="password"]').fill(USERS[role].password);
      await page.locator('form button[type="submit"]').click();
      await page.locator('header.topbar').waitFor();
      return page;
    },
    async screenshot(page, name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await s.close();
      removeDir(s.dir);
    },
  };
}
