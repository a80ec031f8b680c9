/**
 * Header rewriting on raw header arrays: hop-by-hop fields are removed (RFC 9110 §7.6.1:
 * Connection and the fields it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade,
 * Proxy-*) and the decision's operations are applied in order; http1/serialize.ts writes the
 * head from the result. No header object is built per request.
 */
import { RANDOM_IDS, traceStartFields } from '../core/carriers/trace-context.ts';
import { type HeaderTarget, joinFieldValues } from '../core/engine/apply-ops.ts';
import { isHopByHop } from '../util/hop-by-hop.ts';

/**
 * A mutable header list for one message: parallel arrays, deleted entries blanked. The decision's
 * operations are applied to it with applyHeaderOps (`add` is another field line).
 */
export class HeaderList implements HeaderTarget {
  readonly names: string[] = [];
  readonly lower: string[] = [];
  readonly values: string[] = [];

  push(name: string, lower: string, value: string): void {
    this.names.push(name);
    this.lower.push(lower);
    this.values.push(value);
  }

  get(lower: string): string | undefined {
    let out: string | undefined;
    for (let i = 0; i < this.lower.length; i++) {
      if (this.lower[i] === lower)
        out = out === undefined ? this.values[i] : joinFieldValues(lower, out, this.values[i]!);
    }
    return out;
  }

  remove(lower: string): void {
    for (let i = 0; i < this.lower.length; i++) if (this.lower[i] === lower) this.lower[i] = '';
  }

  set(lower: string, value: string): void {
    this.remove(lower);
    this.push(lower, lower, value);
  }

  add(lower: string, value: string): void {
    this.push(lower, lower, value);
  }

  /** `name: value\r\n` lines of every live entry. */
  serialize(): string {
    let out = '';
    for (let i = 0; i < this.lower.length; i++) {
      if (this.lower[i] !== '') out += `${this.names[i]}: ${this.values[i]}\r\n`;
    }
    return out;
  }
}

/** Lower-cased tokens of every Connection header (the fields it names are hop-by-hop too). */
function connectionTokens(
  raw: readonly string[],
  lower: readonly string[],
): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let j = 0; j < lower.length; j++) {
    if (lower[j] !== 'connection' && lower[j] !== 'proxy-connection') continue;
    for (const t of raw[j * 2 + 1]!.split(',')) {
      const token = t.trim().toLowerCase();
      if (token === '') continue;
      tokens ??= new Set();
      tokens.add(token);
    }
  }
  return tokens;
}

/**
 * The end-to-end fields of a message: everything but hop-by-hop fields, `Proxy-*` fields, fields
 * named by Connection, and `host` when `dropHost` (requests get a fresh Host line first).
 */
export function endToEnd(
  raw: readonly string[],
  lower: readonly string[],
  dropHost: boolean,
): HeaderList {
  const list = new HeaderList();
  const named = connectionTokens(raw, lower);
  for (let j = 0; j < lower.length; j++) {
    const name = lower[j]!;
    if (isHopByHop(name) || named?.has(name)) continue;
    if (dropHost && name === 'host') continue;
    list.push(raw[j * 2]!, name, raw[j * 2 + 1]!);
  }
  return list;
}

/** Ids a proxy creates for `ensure-trace-id` operations (random, as a tracer would). */
export function newTraceId(header: string): Record<string, string> {
  return traceStartFields(header, RANDOM_IDS);
}
