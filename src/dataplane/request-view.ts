/**
 * The decision engine's view of a parsed request, backed by the raw header array. Header names
 * are lower-cased once per request; a header sent several times reads as its values joined with
 * ", " (RFC 9110 §5.3), except Cookie, joined with "; " (RFC 6265 §5.4).
 */
import { joinFieldValues } from '../core/engine/apply-ops.ts';
import type { RequestView } from '../core/engine/types.ts';

export class RawRequestView implements RequestView {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  readonly authority: string;
  readonly path: string;
  readonly query: string;
  readonly raw: readonly string[];
  readonly #lower: string[];

  constructor(method: string, authority: string, pathAndQuery: string, raw: readonly string[]) {
    this.method = method;
    this.scheme = 'http';
    this.authority = authority;
    const q = pathAndQuery.indexOf('?');
    this.path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
    this.query = q < 0 ? '' : pathAndQuery.slice(q + 1);
    this.raw = raw;
    const lower: string[] = new Array(raw.length >> 1);
    for (let i = 0, j = 0; i < raw.length; i += 2, j++) lower[j] = raw[i]!.toLowerCase();
    this.#lower = lower;
  }

  header(name: string): string | undefined {
    const lower = this.#lower;
    let value: string | undefined;
    for (let j = 0; j < lower.length; j++) {
      if (lower[j] !== name) continue;
      const v = this.raw[j * 2 + 1]!;
      value = value === undefined ? v : joinFieldValues(name, value, v);
    }
    return value;
  }

  /** Lower-case header names, parallel to every other entry of `raw`. */
  get lowerNames(): readonly string[] {
    return this.#lower;
  }
}
