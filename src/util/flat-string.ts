/**
 * A copy of `s` that owns its characters. V8 represents a slice of 13 or more characters as a view of the
 * string it was cut from, so a cached slice of a body would keep the whole body alive; caches that keep
 * strings past the call store this instead. Shorter strings are already copies and are returned as they are.
 */
export function flatString(s: string): string {
  return s.length >= 13 ? (' ' + s).slice(1) : s;
}
