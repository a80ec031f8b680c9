/**
 * Shared, frozen Framing values: heads point at these instead of allocating one per message.
 */
import type { Framing } from './types.ts';

export const NO_BODY: Framing = Object.freeze({ kind: 'none' });
export const CHUNKED: Framing = Object.freeze({ kind: 'chunked' });
export const CLOSE_DELIMITED: Framing = Object.freeze({ kind: 'close' });
const EMPTY_BODY: Framing = Object.freeze({ kind: 'length', length: 0 });

export function lengthFraming(length: number): Framing {
  return length === 0 ? EMPTY_BODY : { kind: 'length', length };
}
