/**
 * Entry point of `tag.js`: takes over the snippet's `window.ensemble` stub, replays the calls it
 * queued before the tag loaded (in order, consent decisions included), then starts
 * auto-capture, the TCF reader or the optional banner.
 *
 * The server fills `SETTINGS` when the tag is loaded as `/tag.js?k=<writeKey>` (the source's
 * consent mode); a plain copy keeps the placeholder, which does not parse, so no settings.
 *
 * @example
 *   // in the page, after the snippet (README "Add the tag to your site"):
 *   ensemble.track('Signed Up', { plan: 'pro' });
 *   ensemble.consent.set({ analytics: true });
 */
import { Tag } from './tag.js';
import { resolveOptions, type EmbeddedSettings, type TagOptions } from './options.js';
import { autocapture } from './autocapture.js';
import { readTcf } from './tcf.js';
import { showBanner } from './banner.js';
import { TAG_VERSION } from './version.js';

const SETTINGS = '%%ENSEMBLE_SETTINGS%%';

type Call = [string, ...unknown[]];
interface Stub extends Array<Call> {
  initialized?: boolean;
  _writeKey?: string;
  _options?: TagOptions;
}

function embedded(): EmbeddedSettings {
  try { return JSON.parse(SETTINGS) as EmbeddedSettings; } catch { return {}; }
}

function boot(): void {
  const w = window as unknown as { ensemble?: Stub | Record<string, unknown> };
  const stub = w.ensemble as Stub | undefined;
  if (stub && stub.initialized) return; // the tag is on the page twice
  const queued: Call[] = Array.isArray(stub) ? stub.slice() : [];
  const script = document.currentScript as HTMLScriptElement | null;
  const options = resolveOptions(embedded(), stub?._writeKey, stub?._options ?? {}, script?.src ?? '');
  const hasCmp = options.tcf && typeof (window as unknown as { __tcfapi?: unknown }).__tcfapi === 'function';
  const tag = new Tag(options, hasCmp);
  let hideBanner: (() => void) | null = null;
  const consent = {
    set: (prefs: Record<string, boolean>) => {
      hideBanner?.();
      tag.consent(prefs);
    },
    get: () => tag.consentState(),
  };
  const api: Record<string, unknown> = {
    initialized: true,
    VERSION: TAG_VERSION,
    track: tag.track.bind(tag),
    page: tag.page.bind(tag),
    identify: tag.identify.bind(tag),
    group: tag.group.bind(tag),
    alias: tag.alias.bind(tag),
    reset: tag.reset.bind(tag),
    flush: tag.flush.bind(tag),
    anonymousId: tag.anonymousId.bind(tag),
    user: () => ({ id: () => tag.userId(), anonymousId: () => tag.anonymousId() }),
    ready: (cb: () => void) => setTimeout(cb, 0),
    consent,
  };
  w.ensemble = api;
  for (const [method, ...args] of queued) {
    const fn = method === 'consent.set' ? consent.set : api[method];
    if (typeof fn === 'function') (fn as (...a: unknown[]) => void)(...args);
  }
  const o = tag.o;
  if (hasCmp) readTcf(o.tcfPurposes, (granted, tcString) => tag.consent({ analytics: granted }, tcString), () => tag.consentNotRequired());
  else if (o.banner && tag.undecided) hideBanner = showBanner(o.banner, (accepted) => tag.consent({ analytics: accepted }));
  autocapture({ page: (p) => tag.page(p ?? {}), track: (e, p) => tag.track(e, p) }, o);
}

boot();
