/** Null-prototype dictionaries and deep freezing for the routing table. */
import type { Dict } from './table.ts';

/** A mutable dictionary safe for user-chosen keys (no inherited `constructor`, `__proto__`). */
export function newDict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function dictFrom<T>(entries: Iterable<readonly [string, T]>): Dict<T> {
  const out = newDict<T>();
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** A null-prototype copy of a string map from a spec or an endpoint (never frozen in place). */
export function labelsOf(labels: Readonly<Record<string, string>>): Dict<string> {
  const out = newDict<string>();
  for (const key of Object.keys(labels)) out[key] = labels[key]!;
  return out;
}

/**
 * Whether `labels` has every `key: value` of `selector` (Kubernetes equality selection; an empty
 * selector selects everything). Own keys only: a selector never comes from a prototype.
 */
export function labelsMatch(
  labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>,
): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

/**
 * Freezes a value and everything reachable from it, so no proxy can change a published table.
 * RegExps stay unfrozen: matching writes `lastIndex` on global ones, and they hold no config.
 */
export function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v) || v instanceof RegExp) continue;
    seen.add(v);
    Object.freeze(v);
    for (const key of Object.keys(v)) stack.push((v as Record<string, unknown>)[key]);
  }
  return value;
}
