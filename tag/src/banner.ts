/**
 * The optional minimal consent banner: one sentence and two buttons of the same size, style and
 * weight, so refusing is exactly as easy as accepting (one click either way). It is shown only
 * while no decision is known and no TCF CMP is on the page.
 *
 * @example
 *   showBanner({ text: 'May we measure visits?' }, (accepted) => ensemble.consent.set({ analytics: accepted }));
 */
import type { BannerOptions } from './options.js';

const BUTTON = 'font:inherit;padding:8px 20px;border:1px solid #111;border-radius:4px;background:#fff;color:#111;cursor:pointer';

export function showBanner(o: BannerOptions, choose: (accepted: boolean) => void): () => void {
  const box = document.createElement('div');
  box.id = 'ensemble-consent';
  box.setAttribute('role', 'dialog');
  box.setAttribute('aria-label', 'Consent');
  box.style.cssText = 'position:fixed;left:0;right:0;bottom:0;z-index:2147483647;display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:12px 16px;background:#fff;color:#111;border-top:1px solid #999;font:14px/1.4 system-ui,sans-serif';
  const text = document.createElement('p');
  text.style.cssText = 'margin:0;flex:1 1 240px';
  text.textContent = o.text ?? 'May we measure how this site is used? Nothing is stored on your device or sent unless you accept.';
  box.appendChild(text);
  const remove = (): void => box.remove();
  for (const [label, accepted] of [[o.refuse ?? 'Refuse', false], [o.accept ?? 'Accept', true]] as const) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.setAttribute('data-ensemble-consent', accepted ? 'accept' : 'refuse');
    b.style.cssText = BUTTON;
    b.onclick = () => {
      remove();
      choose(accepted);
    };
    box.appendChild(b);
  }
  if (document.body) document.body.appendChild(box);
  else document.addEventListener('DOMContentLoaded', () => document.body.appendChild(box));
  return remove;
}
