/**
 * Automatic events, each switchable in the options:
 * - page views: on load, and on single-page-app navigation (history.pushState/replaceState,
 *   popstate) when the URL changes;
 * - `Link Clicked` / `Button Clicked`: the element's text, a CSS selector, the link's href —
 *   never the value of an input;
 * - `Form Submitted`: the form's id and name and its fields' names; a field's value only when
 *   allow-listed (`autocapture.formValues`), and never a password's;
 * - `Scroll Depth`: 25, 50, 75 and 100 %, each once per page view.
 *
 * @example
 *   autocapture({ page: (p) => tag.page(p), track: (e, p) => tag.track(e, p) }, resolvedOptions);
 */
import type { ResolvedOptions } from './options.js';

export interface CaptureSink {
  page(properties?: Record<string, unknown>): void;
  track(event: string, properties: Record<string, unknown>): void;
}

const THRESHOLDS = [25, 50, 75, 100];
const CLICKABLE = 'a[href],button,[role="button"],input[type="submit"],input[type="button"]';
const NOT_FIELDS = ['submit', 'button', 'reset', 'image'];

/** A short, readable selector: up to the nearest id, at most four levels. */
export function cssPath(el: Element): string {
  const parts: string[] = [];
  let node: Element | null = el;
  while (node && node.nodeType === 1 && parts.length < 4) {
    if (node.id) {
      parts.unshift(`#${CSS.escape(node.id)}`);
      break;
    }
    let part = node.tagName.toLowerCase();
    const cls = node.classList[0];
    if (cls) part += `.${CSS.escape(cls)}`;
    const parent: Element | null = node.parentElement;
    if (parent) {
      const same = Array.prototype.filter.call(parent.children, (c: Element) => c.tagName === node!.tagName) as Element[];
      if (same.length > 1) part += `:nth-of-type(${same.indexOf(node) + 1})`;
    }
    parts.unshift(part);
    if (part === 'body') break;
    node = parent;
  }
  return parts.join(' > ');
}

/** Visible text of a clickable element; an input's label only, never its value. */
function textOf(el: Element): string {
  const text = el instanceof HTMLInputElement ? el.getAttribute('aria-label') ?? '' : el.textContent ?? '';
  return text.replace(/\s+/g, ' ').trim().slice(0, 255);
}

export function autocapture(sink: CaptureSink, o: ResolvedOptions): void {
  let reached = new Set<number>();
  if (o.capture.pageviews) {
    let last = location.href;
    const changed = (): void => {
      if (location.href === last) return;
      const referrer = last;
      last = location.href;
      reached = new Set();
      sink.page({ referrer });
    };
    for (const m of ['pushState', 'replaceState'] as const) {
      const original = history[m];
      history[m] = function (this: History, ...args: Parameters<History['pushState']>) {
        const r = original.apply(this, args);
        changed();
        return r;
      };
    }
    addEventListener('popstate', changed);
    sink.page();
  }
  if (o.capture.clicks) {
    document.addEventListener('click', (e) => {
      const el = e.target instanceof Element ? e.target.closest(CLICKABLE) : null;
      // The consent banner's own buttons are not the site's.
      if (!el || el.closest('#ensemble-consent')) return;
      const link = el instanceof HTMLAnchorElement;
      sink.track(link ? 'Link Clicked' : 'Button Clicked', {
        text: textOf(el), selector: cssPath(el), ...(el.id ? { id: el.id } : {}), ...(link ? { href: el.href } : {}),
      });
    }, true);
  }
  if (o.capture.forms) {
    document.addEventListener('submit', (e) => {
      const form = e.target;
      if (!(form instanceof HTMLFormElement)) return;
      const fields: string[] = [];
      const values: Record<string, string> = {};
      for (const el of Array.from(form.elements) as HTMLInputElement[]) {
        const name = el.name;
        if (!name || NOT_FIELDS.includes(el.type)) continue;
        if (!fields.includes(name)) fields.push(name);
        if (!o.formValues.includes(name) || el.type === 'password') continue;
        if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) continue;
        values[name] = String(el.value).slice(0, 255);
      }
      sink.track('Form Submitted', {
        ...(form.id ? { formId: form.id } : {}), ...(form.getAttribute('name') ? { formName: form.getAttribute('name') } : {}),
        fields, ...(Object.keys(values).length ? { values } : {}),
      });
    }, true);
  }
  if (o.capture.scroll) {
    let pending = false;
    const measure = (): void => {
      pending = false;
      const height = document.documentElement.scrollHeight;
      const view = innerHeight;
      if (height <= view) return;
      const seen = ((scrollY + view) / height) * 100;
      for (const t of THRESHOLDS) {
        // Half a percent of slack: fractional pixels keep the bottom at 99.9 %.
        if (seen + 0.5 >= t && !reached.has(t)) {
          reached.add(t);
          sink.track('Scroll Depth', { percent: t });
        }
      }
    };
    addEventListener('scroll', () => {
      if (pending) return;
      pending = true;
      setTimeout(measure, 100); // at most ten measures a second
    }, { passive: true });
  }
}
