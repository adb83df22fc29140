/**
 * Plain objects keyed by names senders choose (traits): `o[k]` would read `constructor` or
 * `toString` from Object.prototype, and `o[k] = v` with `__proto__` would replace the object's
 * prototype instead of storing a value. These read and write own properties only.
 *
 * @example
 *   setOwn(traits, '__proto__', 1); getOwn(traits, 'constructor'); // an own `__proto__` trait; undefined
 */
export function getOwn<T>(o: Record<string, T>, k: string): T | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

export function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}
