/**
 * Open and click tracking for a rendered HTML email: the engine calls `instrumentHtml` on the
 * rendered `html` field (after Liquid, before the item reaches the connector), so the message
 * carries the open pixel and every http(s) link goes through the signed click redirect.
 *
 * - The pixel `<img>` goes just before the last `</body>`, or at the end without one.
 * - `href="http(s)://…"` (double or single quotes) of `<a>` tags is rewritten to `links.click(url)`,
 *   with the URL's HTML entities (`&amp;`, …) decoded first so the redirect lands on the real URL.
 * - Left alone: other schemes (mailto:, tel:, #anchors), the unsubscribe link itself, and any
 *   `<a>` carrying a `data-ensemble-notrack` attribute.
 *
 * @example
 *   instrumentHtml('<p><a href="https://shop.example/?a=1&amp;b=2">Shop</a></p>', links)
 *   // → '<p><a href="https://cdp…/v1/m/c/<token>">Shop</a></p><img src="https://cdp…/v1/m/o/<token>.gif" …>'
 */
import type { MessageLinks } from '../../protocol/destination.js';
import { isTrackableUrl } from '../message-links.js';

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the character references an attribute value may hold. */
function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const n = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

function escapeAttribute(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The HTML of the open pixel. */
export function openPixel(url: string): string {
  return `<img src="${escapeAttribute(url)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
}

function rewriteAnchor(tag: string, links: MessageLinks): string {
  if (/\sdata-ensemble-notrack(?=[\s=>/])/i.test(tag)) return tag;
  return tag.replace(/(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)')/i, (whole, prefix: string, dq?: string, sq?: string) => {
    const url = decodeEntities((dq ?? sq ?? '').trim());
    if (!/^https?:\/\//i.test(url) || !isTrackableUrl(url) || url === links.unsubscribe) return whole;
    return `${prefix}"${escapeAttribute(links.click(url))}"`;
  });
}

/** Adds the open pixel and routes http(s) links through the click redirect. */
export function instrumentHtml(html: string, links: MessageLinks): string {
  const tracked = html.replace(/<a\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi, (tag) => rewriteAnchor(tag, links));
  const pixel = openPixel(links.open);
  const close = tracked.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  return close < 0 ? tracked + pixel : tracked.slice(0, close) + pixel + tracked.slice(close);
}
