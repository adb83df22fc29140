/**
 * Click tracking for plain-text messages (SMS): every http(s) URL in the rendered text goes
 * through the signed click redirect, so a click arrives as an event (`SMS Link Clicked`) that
 * journeys can wait for, like email clicks.
 *
 * Signed links are long (about 200 characters more than the target: they carry the ids they
 * were made for, so the redirect needs no lookup table). When tracking would push the text
 * past `maxLength` (the channel's limit), the text is sent untracked rather than refused.
 * A URL ends at white space; a trailing `.`, `,`, `;`, `:`, `!`, `?` or `)` is read as
 * punctuation, not part of it.
 *
 * @example
 *   instrumentText('Your cart: https://shop.example/cart?x=1.', links, 1600)
 *   // → 'Your cart: https://cdp…/v1/m/c/<token>.'
 */
import type { MessageLinks } from '../protocol/destination.js';
import { isTrackableUrl } from './message-links.js';

const URL_IN_TEXT = /https?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?)]+$/;

export function instrumentText(text: string, links: MessageLinks, maxLength: number): string {
  const tracked = text.replace(URL_IN_TEXT, (found) => {
    const tail = TRAILING.exec(found)?.[0] ?? '';
    const url = found.slice(0, found.length - tail.length);
    return isTrackableUrl(url) && url !== links.unsubscribe ? links.click(url) + tail : found;
  });
  return tracked.length <= maxLength ? tracked : text;
}
