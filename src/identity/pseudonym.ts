/**
 * Stored events keep a pseudonym in place of a personal identifier (`traits.email`,
 * `context.traits.phone`...): `ens:<type>:<hash>`, the identifier's keyed hash. The events table
 * then holds no clear personal identifier, a replay (split, rebuild) still links by the hash, and
 * the API can show the clear value to a caller allowed to see it, from the sealed identity.
 */
const PREFIX = 'ens:';
const SHAPE = /^ens:([a-z][a-z0-9_]{0,39}):([A-Za-z0-9_-]{16,64})$/;

export function pseudonym(type: string, hash: string): string {
  return `${PREFIX}${type}:${hash}`;
}

export function parsePseudonym(s: string): { type: string; hash: string } | undefined {
  if (!s.startsWith(PREFIX)) return undefined;
  const m = SHAPE.exec(s);
  return m ? { type: m[1] as string, hash: m[2] as string } : undefined;
}
