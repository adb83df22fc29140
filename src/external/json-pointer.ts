/**
 * JSON pointers (RFC 6901), the way mappings name a place in a JSON answer. Small enough to hold
 * here whole: a pointer is `""` (the whole document) or `/`-separated reference tokens in which
 * `~1` stands for `/` and `~0` for `~`. An array index is `0` or digits without a leading zero.
 *
 * @example
 *   parsePointer('/weather/0/main')                            // ['weather', '0', 'main']
 *   resolvePointer({ weather: [{ main: 'Rain' }] }, '/weather/0/main')  // 'Rain'
 *   formatPointer(['a/b', 'c~d'])                              // '/a~1b/c~0d'
 */

/** The tokens of a valid pointer, or null when it is not one (no leading `/`, a `~` not followed by 0 or 1). */
export function parsePointer(pointer: string): string[] | null {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return null;
  const tokens: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    if (/~(?![01])/.test(raw)) return null;
    tokens.push(raw.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  return tokens;
}

export function formatPointer(tokens: readonly string[]): string {
  return tokens.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** The value the tokens lead to, or undefined when some step is missing (never throws on data). */
export function resolveTokens(doc: unknown, tokens: readonly string[]): unknown {
  let at: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(at)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t)) return undefined;
      at = at[Number(t)];
    } else if (at !== null && typeof at === 'object') {
      // Own properties only: "/constructor" must not reach Object.prototype.
      if (!Object.prototype.hasOwnProperty.call(at, t)) return undefined;
      at = (at as Record<string, unknown>)[t];
    } else {
      return undefined;
    }
  }
  return at;
}

/** `resolveTokens` for a pointer given as text; undefined for an invalid pointer too. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  return tokens === null ? undefined : resolveTokens(doc, tokens);
}
