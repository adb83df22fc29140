/**
 * What configures a tag: the options of the snippet's `ensemble.load(writeKey, options)`, and
 * the settings the server embeds when the tag is loaded as `/tag.js?k=<writeKey>` (the source's
 * consent mode, which the site cannot weaken: strict on either side means strict).
 *
 * @example
 *   resolveOptions({ k: 'wk', consentMode: 'strict' }, 'wk', { autocapture: { scroll: false } }, 'https://cdp.example.com/tag.js?k=wk')
 *   // → { writeKey: 'wk', strict: true, apiHost: 'https://cdp.example.com', capture: { pageviews: true, clicks: true, forms: true, scroll: false }, ... }
 */
export interface AutocaptureOptions {
  pageviews?: boolean;
  clicks?: boolean;
  forms?: boolean;
  scroll?: boolean;
  /** Form fields whose value may be sent with `Form Submitted` (never a password field). */
  formValues?: string[];
}

export interface BannerOptions {
  text?: string;
  accept?: string;
  refuse?: string;
}

export interface TagOptions {
  writeKey?: string;
  /** The collector's origin; by default the origin the tag was loaded from. */
  apiHost?: string;
  /** 'strict': nothing stored or sent before consent. The source's own mode wins when stricter. */
  consentMode?: 'standard' | 'strict';
  /** `false` turns every auto-capture off; an object switches each one. */
  autocapture?: boolean | AutocaptureOptions;
  /** Show the minimal consent banner when no decision is known and no TCF CMP is on the page. */
  banner?: boolean | BannerOptions;
  /** Read an IAB TCF v2 CMP (`__tcfapi`) when one is present (default true). */
  tcf?: boolean;
  /** TCF purposes that must all have consent for analytics (the server's default mapping). */
  tcfPurposes?: number[];
  /** Milliseconds between sends of the queue (default 1000). */
  flushInterval?: number;
  /** First retry delay in milliseconds, doubled at each failure up to `retryMaxDelay` (default 1000). */
  retryDelay?: number;
  retryMaxDelay?: number;
}

/** Settings the server embeds in `/tag.js?k=`. */
export interface EmbeddedSettings {
  k?: string;
  consentMode?: string;
}

export interface ResolvedOptions {
  writeKey: string;
  apiHost: string;
  strict: boolean;
  capture: Required<Omit<AutocaptureOptions, 'formValues'>>;
  formValues: string[];
  banner: BannerOptions | null;
  tcf: boolean;
  tcfPurposes: number[];
  flushInterval: number;
  retryDelay: number;
  retryMaxDelay: number;
}

export function resolveOptions(embedded: EmbeddedSettings, writeKey: string | undefined, o: TagOptions, scriptSrc: string): ResolvedOptions {
  const ac = o.autocapture;
  const on = (k: keyof AutocaptureOptions): boolean => ac !== false && (typeof ac !== 'object' || ac[k] !== false);
  let origin = '';
  try { origin = new URL(scriptSrc).origin; } catch { /* inline copy of the tag: apiHost is required */ }
  return {
    writeKey: writeKey || o.writeKey || embedded.k || '',
    apiHost: (o.apiHost || origin).replace(/\/+$/, ''),
    strict: o.consentMode === 'strict' || embedded.consentMode === 'strict',
    capture: { pageviews: on('pageviews'), clicks: on('clicks'), forms: on('forms'), scroll: on('scroll') },
    formValues: typeof ac === 'object' && Array.isArray(ac.formValues) ? ac.formValues : [],
    banner: o.banner ? (typeof o.banner === 'object' ? o.banner : {}) : null,
    tcf: o.tcf !== false,
    tcfPurposes: o.tcfPurposes ?? [1, 8, 9],
    flushInterval: o.flushInterval ?? 1000,
    retryDelay: o.retryDelay ?? 1000,
    retryMaxDelay: o.retryMaxDelay ?? 60_000,
  };
}
