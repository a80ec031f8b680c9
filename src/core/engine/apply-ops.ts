/**
 * Applies decided header operations — the one implementation of what each operation means. The
 * proxy applies them to the raw header list it writes (src/dataplane/headers.ts), the engine to a
 * view of the request the next hop will see (view.ts), `explain` and the tests to a plain map:
 * each is a HeaderTarget, so the three cannot drift apart.
 */
import { removeBaggageKeys, setBaggageValue } from '../carriers/baggage.ts';
import type { HeaderOp } from './types.ts';

/** Headers by lower-case name; `get` reads a field sent several times as one joined value. */
export interface HeaderTarget {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  /** One more field line (on the wire) or value (joined, where there are no lines). */
  add(name: string, value: string): void;
  remove(name: string): void;
}

/**
 * How several lines of one field read as one value: ", " (RFC 9110 §5.3), except Cookie, "; "
 * (RFC 6265 §5.4).
 */
export function joinFieldValues(name: string, first: string, next: string): string {
  return `${first}${name === 'cookie' ? '; ' : ', '}${next}`;
}

/**
 * `newTraceId` makes the fields that replace a missing or invalid trace id; without it (matching
 * only needs to know the id will be there) `ensure-trace-id` changes nothing.
 */
export function applyHeaderOps(
  headers: HeaderTarget,
  ops: readonly HeaderOp[],
  newTraceId?: (header: string) => Record<string, string>,
): void {
  for (const op of ops) {
    switch (op.op) {
      case 'set':
        headers.set(op.name, op.value);
        break;
      case 'add':
        headers.add(op.name, op.value);
        break;
      case 'remove':
        headers.remove(op.name);
        break;
      case 'set-baggage':
        headers.set('baggage', setBaggageValue(headers.get('baggage'), op.key, op.value));
        break;
      case 'remove-baggage': {
        const rest = removeBaggageKeys(headers.get('baggage'), op.keys);
        if (rest === undefined) headers.remove('baggage');
        else headers.set('baggage', rest);
        break;
      }
      case 'ensure-trace-id':
        // The engine asks only when the header is missing or invalid: replace it either way.
        if (newTraceId)
          for (const [name, value] of Object.entries(newTraceId(op.header)))
            headers.set(name, value);
        break;
    }
  }
}

/** A plain map (lower-case names, joined values) as a HeaderTarget. */
export function mapHeaders(map: Map<string, string>): HeaderTarget {
  return {
    get: (name) => map.get(name),
    set: (name, value) => void map.set(name, value),
    add: (name, value) => {
      const prev = map.get(name);
      map.set(name, prev === undefined ? value : joinFieldValues(name, prev, value));
    },
    remove: (name) => void map.delete(name),
  };
}
