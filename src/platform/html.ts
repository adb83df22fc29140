/** HTML text and attribute values: the five characters that can end one or open markup, as entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * For HTML pages of personal or user-written data opened in browsers (the register, access
 * bundles): everything in them is escaped, and this policy makes sure even a slip could run no
 * script and load nothing (the inline style is the only need).
 */
export const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
