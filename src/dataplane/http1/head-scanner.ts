/**
 * Scans one message head — request-line or status-line, field lines, final empty line — or one
 * trailer section, byte by byte with lookup tables, and records where every part is. Strings are
 * made once the head is complete: one latin1 decode of the whole head, then substrings.
 *
 * The scan is resumable: when the input ends inside a head, the bytes of the head so far move to a
 * stash (bounded by maxHeadBytes) and later input is appended there; scanning continues where it
 * stopped, so a head fed one byte at a time costs O(n) and yields the same result and the same
 * error as the whole head at once.
 *
 * The common case — a whole, valid head in one buffer — takes a straight-line path (fast());
 * anything else (a split head, leading empty lines, any doubt or error) goes through the
 * resumable scan, which alone reports errors, so both always agree (tested differentially).
 *
 * Line endings (RFC 9112 §2.2): every line ends in CRLF. A bare LF, or a CR not followed by LF,
 * anywhere in the head is rejected — RFC 9112 §2.2 allows a recipient to accept a bare LF, but a
 * proxy that accepts what the next hop may split differently is a smuggling vector.
 */

import {
  BACKSLASH,
  COLON,
  CR,
  describeByte,
  FIELD_VALUE,
  HASH,
  HTAB,
  LF,
  latin1,
  QUESTION,
  SP,
  TARGET,
  TOKEN,
} from './chars.ts';
import { fieldKind } from './field-names.ts';
import { ParseError, type ParseErrorCode, type ParserLimits } from './types.ts';

export const NEED_MORE = -1;
export const FAILED = -2;

/** Only ever read (a trailer section without fields); never handed out. */
const NO_FIELDS: string[] = [];

export const MODE_REQUEST = 0;
export const MODE_RESPONSE = 1;
export const MODE_TRAILERS = 2;

const P_START = 0; // before the start line: empty lines are skipped here
const P_START_LF = 1; // CR of an empty line before the start line
const P_METHOD = 2;
const P_TARGET = 3;
const P_VERSION = 4; // request: HTTP-version after the second SP
const P_STATUS_VERSION = 5; // response: HTTP-version first on the line
const P_STATUS = 6;
const P_REASON = 7;
const P_START_LINE_LF = 8; // CR ending the start line seen
const P_LINE = 9; // start of a field line or of the final empty line
const P_NAME = 10;
const P_OWS = 11;
const P_VALUE = 12;
const P_FIELD_LF = 13;
const P_END_LF = 14;

/**
 * No registered method is longer than 17 bytes ("UPDATEREDIRECTREF"); 64 leaves room for
 * extension methods and lets a 100 KB "method" fail fast as 400, not late as 431.
 */
export const MAX_METHOD_BYTES = 64;

/**
 * RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) received before the
 * request-line. Clients that append CRLF after a body send one; two covers a doubled one. More
 * is garbage, not robustness. The same tolerance applies before a status-line.
 */
export const MAX_EMPTY_LINES = 2;

/** Extra stash room for the skipped empty lines (2 × CRLF) that precede a head. */
const EMPTY_LINE_SLACK = 2 * MAX_EMPTY_LINES;

/** Field slots allocated up front; more (up to maxHeaders) when a head needs them. */
const INITIAL_FIELDS = 128;

export class HeadScanner {
  private readonly mode: number;
  private readonly maxBytes: number;
  private readonly maxFields: number;
  private readonly maxTarget: number;
  /** BAD_REQUEST or BAD_RESPONSE: which side is malformed. */
  private readonly bad: ParseErrorCode;
  /** Status for HEADERS_TOO_LARGE: 431 for a request, 502 for a response. */
  private readonly tooLargeStatus: number;

  // Scan state. Indices point into the buffer being scanned: the caller's chunk, or the stash.
  private phase = P_START;
  private started = false;
  private base = 0; // first byte of the head (after skipped empty lines)
  private i = 0; // where scanning continues
  private lineStart = 0;
  private mark = 0; // start of the current value / status code
  private empties = 0;
  private query = false;

  private stash: Buffer | undefined = undefined;
  private stashLen = 0;
  private stashing = false;

  /** Per field: name start, name end, value start, value end (OWS trimmed). Grows on demand. */
  private fields: Int32Array;
  /** Per field: F_* kind from field-names.ts. */
  kinds: Uint8Array;
  fieldCount = 0;

  private methodEnd = 0;
  private targetEnd = 0;
  private reasonStart = 0;
  private reasonEnd = 0;

  // Results, valid after a scan returned the end of the head.
  method = '';
  target = '';
  reason = '';
  minor: 0 | 1 = 1;
  status = 0;
  /** A fresh array per head: it is handed to the caller. */
  rawHeaders: string[] = NO_FIELDS;
  headBytes = 0;
  errorCode: ParseErrorCode = 'BAD_REQUEST';
  errorMessage = '';

  constructor(mode: number, limits: ParserLimits, bad: ParseErrorCode, tooLargeStatus: number) {
    this.mode = mode;
    this.maxBytes = limits.maxHeadBytes;
    this.maxFields = limits.maxHeaders;
    this.maxTarget = limits.maxTargetBytes;
    this.bad = bad;
    this.tooLargeStatus = tooLargeStatus;
    const cap = Math.min(limits.maxHeaders, INITIAL_FIELDS);
    this.fields = new Int32Array(4 * cap);
    this.kinds = new Uint8Array(cap);
    this.reset();
  }

  /** Prepares for the next head. */
  reset(): void {
    this.phase = this.mode === MODE_TRAILERS ? P_LINE : P_START;
    this.started = false;
    this.fieldCount = 0;
    this.empties = 0;
    this.status = 0;
    this.query = false;
    this.stashing = false;
    this.stashLen = 0;
    this.stash = undefined;
  }

  /** No byte of a head has been taken since reset() (skipped empty lines do not count). */
  get idle(): boolean {
    return !this.started || (this.phase === P_START && !this.stashing);
  }

  /** Bytes held in the stash. */
  get buffered(): number {
    return this.stashing ? this.stashLen : 0;
  }

  /** The stashed bytes of an unfinished head (for takeRemainder), and forgets them. */
  takeStash(): Buffer | undefined {
    if (!this.stashing || this.stash === undefined || this.stashLen === 0) return undefined;
    const out = Buffer.from(this.stash.subarray(0, this.stashLen));
    this.reset();
    return out;
  }

  /** The error after FAILED, as a ParseError. */
  error(): ParseError {
    const status = this.errorCode === 'HEADERS_TOO_LARGE' ? this.tooLargeStatus : undefined;
    return new ParseError(this.errorCode, this.errorMessage, status);
  }

  /**
   * Takes bytes buf[pos, end). Returns the index in buf just after the head when it is complete
   * (results are then set), NEED_MORE when every byte was taken and the head continues, FAILED
   * on an error (errorCode / errorMessage set).
   */
  feed(buf: Buffer, pos: number, end: number): number {
    if (!this.stashing) {
      if (!this.started) {
        this.started = true;
        const r = this.fast(buf, pos, end);
        if (r >= 0) return r;
        this.fieldCount = 0;
        this.base = pos;
        this.lineStart = pos;
      }
      this.i = pos;
      const r = this.scan(buf, end);
      // Only skipped empty lines so far: nothing to keep.
      if (r === NEED_MORE && this.phase !== P_START) this.toStash(buf, end);
      return r;
    }
    // The head started in an earlier chunk: append at most what could still belong to it.
    const room = this.base + this.maxBytes + EMPTY_LINE_SLACK - this.stashLen;
    const take = Math.min(end - pos, room);
    const before = this.stashLen;
    this.append(buf, pos, take);
    const r = this.scan(this.stash!, this.stashLen);
    if (r >= 0) return pos + (r - before);
    // NEED_MORE: every byte was taken (had the budget cut `take`, the scan would have failed).
    if (r === NEED_MORE && this.phase === P_START) {
      this.stashing = false;
      this.stashLen = 0;
    }
    return r;
  }

  private append(buf: Buffer, pos: number, n: number): void {
    const need = this.stashLen + n;
    let stash = this.stash;
    if (stash === undefined || stash.length < need) {
      let cap = stash === undefined ? 256 : stash.length * 2;
      if (cap < need) cap = need;
      const grown = Buffer.allocUnsafe(cap);
      if (stash !== undefined) stash.copy(grown, 0, 0, this.stashLen);
      this.stash = stash = grown;
    }
    buf.copy(stash, this.stashLen, pos, pos + n);
    this.stashLen = need;
  }

  /** The input ended inside the head: keep its bytes so far, with every index rebased. */
  private toStash(buf: Buffer, end: number): void {
    const base = this.base;
    this.stashLen = 0;
    this.append(buf, base, end - base);
    this.stashing = true;
    this.i -= base;
    this.lineStart -= base;
    this.mark -= base;
    this.methodEnd -= base;
    this.targetEnd -= base;
    this.reasonStart -= base;
    this.reasonEnd -= base;
    const f = this.fields;
    // Include a field whose name is recorded but whose value is not yet.
    const n = 4 * this.fieldCount + 2;
    for (let k = 0; k < n && k < f.length; k++) f[k] = f[k]! - base;
    this.base = 0;
  }

  /**
   * The common case, straight-line: a whole, valid head in one buffer. Returns the end of the
   * head, or -1 for anything else (incomplete, leading empty lines, any doubt, any error) — the
   * resumable scan then starts over at `pos` and is the one that decides and reports. Both record
   * the same positions.
   */
  private fast(src: Buffer, pos: number, end: number): number {
    let lim = pos + this.maxBytes;
    if (lim > end) lim = end;
    let i = pos;
    if (this.mode === MODE_REQUEST) {
      let mlim = pos + MAX_METHOD_BYTES;
      if (mlim > lim) mlim = lim;
      while (i < mlim && TOKEN[src[i]!] === 1) i++;
      if (i === pos || i >= lim || src[i] !== SP) return -1;
      this.methodEnd = i;
      const ts = ++i;
      let tlim = ts + this.maxTarget;
      if (tlim > lim) tlim = lim;
      while (i < tlim && TARGET[src[i]!] === 1) i++;
      if (i < tlim && src[i] === QUESTION) {
        while (++i < tlim) {
          const c = src[i]!;
          if (TARGET[c] !== 1 && c !== QUESTION && c !== BACKSLASH) break;
        }
      }
      if (i === ts || i >= tlim || src[i] !== SP) return -1;
      this.targetEnd = i++;
      if (!isHttp1(src, i, lim) || src[i + 8] !== CR || src[i + 9] !== LF) return -1;
      this.minor = src[i + 7] === 0x31 ? 1 : 0;
      i += 10;
    } else if (this.mode === MODE_RESPONSE) {
      if (!isHttp1(src, i, lim) || src[i + 8] !== SP || i + 14 > lim) return -1;
      this.minor = src[i + 7] === 0x31 ? 1 : 0;
      const d1 = src[i + 9]! - 0x30;
      const d2 = src[i + 10]! - 0x30;
      const d3 = src[i + 11]! - 0x30;
      if (d1 < 1 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) return -1;
      this.status = d1 * 100 + d2 * 10 + d3;
      i += 12;
      if (src[i] === SP) i++;
      else if (src[i] !== CR) return -1;
      this.reasonStart = i;
      while (i < lim && FIELD_VALUE[src[i]!] === 1) i++;
      this.reasonEnd = i;
      if (i + 1 >= lim || src[i] !== CR || src[i + 1] !== LF) return -1;
      i += 2;
    }
    let fields = this.fields;
    let kinds = this.kinds;
    const max = this.maxFields;
    let n = 0;
    for (;;) {
      if (i + 1 >= lim) return -1;
      if (src[i] === CR) {
        if (src[i + 1] !== LF) return -1;
        this.fieldCount = n;
        this.base = pos;
        return this.done(src, i + 2);
      }
      if (n >= max) return -1;
      if (n >= kinds.length) {
        this.grow(n);
        fields = this.fields;
        kinds = this.kinds;
      }
      const ns = i;
      while (i < lim && TOKEN[src[i]!] === 1) i++;
      if (i === ns || i >= lim || src[i] !== COLON) return -1;
      const ne = i++;
      while (i < lim && (src[i] === SP || src[i] === HTAB)) i++;
      const vs = i;
      while (i < lim && FIELD_VALUE[src[i]!] === 1) i++;
      if (i + 1 >= lim || src[i] !== CR || src[i + 1] !== LF) return -1;
      let ve = i;
      while (ve > vs && (src[ve - 1] === SP || src[ve - 1] === HTAB)) ve--;
      const f = 4 * n;
      fields[f] = ns;
      fields[f + 1] = ne;
      fields[f + 2] = vs;
      fields[f + 3] = ve;
      kinds[n++] = fieldKind(src, ns, ne);
      i += 2;
    }
  }

  /** Room for field n (n < maxFields). */
  private grow(n: number): void {
    const cap = Math.min(this.maxFields, Math.max(2 * this.kinds.length, n + 1));
    const fields = new Int32Array(4 * cap);
    fields.set(this.fields);
    const kinds = new Uint8Array(cap);
    kinds.set(this.kinds);
    this.fields = fields;
    this.kinds = kinds;
  }

  private fail(message: string, code: ParseErrorCode = this.bad): number {
    this.errorCode = code;
    this.errorMessage = message;
    this.phase = P_START;
    this.stash = undefined;
    this.stashing = false;
    return FAILED;
  }

  private get fieldWord(): string {
    return this.mode === MODE_TRAILERS ? 'trailer field' : 'header field';
  }

  private scan(src: Buffer, end: number): number {
    let i = this.i;
    let phase = this.phase;
    let lim = this.base + this.maxBytes;
    if (lim > end) lim = end;

    outer: for (;;) {
      switch (phase) {
        case P_START: {
          this.base = i;
          if (i >= end) break outer;
          const c = src[i]!;
          if (c === CR) {
            phase = P_START_LF;
            i++;
            continue;
          }
          if (c === LF) return this.fail(`bare LF (without CR) before the ${this.startLineWord}`);
          lim = i + this.maxBytes;
          if (lim > end) lim = end;
          this.lineStart = i;
          phase = this.mode === MODE_REQUEST ? P_METHOD : P_STATUS_VERSION;
          continue;
        }
        case P_START_LF: {
          if (i >= end) break outer;
          if (src[i] !== LF) {
            return this.fail(`CR not followed by LF before the ${this.startLineWord}`);
          }
          i++;
          if (++this.empties > MAX_EMPTY_LINES) {
            return this.fail(
              `more than ${MAX_EMPTY_LINES} empty lines before the ${this.startLineWord}`,
            );
          }
          phase = P_START;
          continue;
        }
        case P_METHOD: {
          let mlim = this.base + MAX_METHOD_BYTES + 1;
          if (mlim > lim) mlim = lim;
          while (i < mlim && TOKEN[src[i]!] === 1) i++;
          if (i - this.base > MAX_METHOD_BYTES) {
            return this.fail(`method longer than ${MAX_METHOD_BYTES} bytes`);
          }
          if (i >= lim) break outer;
          const c = src[i]!;
          if (c !== SP || i === this.base) return this.fail(this.methodError(c, i));
          this.methodEnd = i;
          i++;
          phase = P_TARGET;
          continue;
        }
        case P_TARGET: {
          const ts = this.methodEnd + 1;
          let tlim = ts + this.maxTarget + 1;
          if (tlim > lim) tlim = lim;
          for (;;) {
            while (i < tlim && TARGET[src[i]!] === 1) i++;
            if (i >= tlim) break;
            const c = src[i]!;
            // RFC 3986: "\" is not a URI character. In a path some servers read it as "/"
            // (path confusion); in a query it is common enough from browsers to pass.
            if (c === QUESTION || (c === BACKSLASH && this.query)) {
              this.query = true;
              i++;
              continue;
            }
            break;
          }
          if (i - ts > this.maxTarget) {
            return this.fail(
              `request-target longer than ${this.maxTarget} bytes (RFC 9112 §3)`,
              'URI_TOO_LONG',
            );
          }
          if (i >= lim) break outer;
          const c = src[i]!;
          if (c === SP && i > ts) {
            this.targetEnd = i;
            i++;
            phase = P_VERSION;
            continue;
          }
          return this.fail(this.targetError(c, i === ts));
        }
        case P_VERSION: {
          const vs = this.targetEnd + 1;
          while (i < lim) {
            const c = src[i]!;
            if (c === CR) break;
            if (c <= SP || c >= 0x7f || i - vs >= 8) return this.fail(this.versionError(c));
            i++;
          }
          if (i >= lim) break outer;
          const v = version(src, vs, i);
          if (v < 0) {
            const text = latin1(src, vs, i);
            return v === UNSUPPORTED
              ? this.fail(
                  `${text} is not supported (only HTTP/1.1 and HTTP/1.0)`,
                  'VERSION_NOT_SUPPORTED',
                )
              : this.fail(`invalid HTTP-version "${text}" (RFC 9112 §2.3)`);
          }
          this.minor = v as 0 | 1;
          i++;
          phase = P_START_LINE_LF;
          continue;
        }
        case P_STATUS_VERSION: {
          while (i < lim) {
            const c = src[i]!;
            if (c === SP) break;
            if (c < SP || c >= 0x7f || i - this.base >= 8) {
              return this.fail(`malformed status-line: ${describeByte(c)} in the HTTP-version`);
            }
            i++;
          }
          if (i >= lim) break outer;
          const v = version(src, this.base, i);
          if (v < 0) {
            const text = latin1(src, this.base, i);
            return v === UNSUPPORTED
              ? this.fail(`upstream answered with unsupported ${text}`)
              : this.fail(`invalid HTTP-version "${text}" in the status-line (RFC 9112 §4)`);
          }
          this.minor = v as 0 | 1;
          i++;
          this.mark = i;
          this.status = 0;
          phase = P_STATUS;
          continue;
        }
        case P_STATUS: {
          while (i < lim && i - this.mark < 3) {
            const c = src[i]!;
            if (c < 0x30 || c > 0x39) return this.fail('status code is not three digits');
            this.status = this.status * 10 + (c - 0x30);
            i++;
          }
          if (i >= lim) break outer;
          if (this.status < 100) return this.fail(`status code ${this.status} is below 100`);
          const c = src[i]!;
          if (c === SP) {
            i++;
            this.reasonStart = i;
            phase = P_REASON;
            continue;
          }
          if (c === CR) {
            // RFC 9112 §4 requires the SP even with an empty reason; servers that omit it exist
            // and the reason-phrase carries no meaning (a client SHOULD ignore it), so accept.
            this.reasonStart = this.reasonEnd = i;
            i++;
            phase = P_START_LINE_LF;
            continue;
          }
          return this.fail(`status code is not three digits (then ${describeByte(c)})`);
        }
        case P_REASON: {
          while (i < lim && FIELD_VALUE[src[i]!] === 1) i++;
          if (i >= lim) break outer;
          const c = src[i]!;
          if (c !== CR) {
            return this.fail(
              c === LF
                ? 'bare LF (without CR) ending the status-line'
                : `${describeByte(c)} in the reason-phrase`,
            );
          }
          this.reasonEnd = i;
          i++;
          phase = P_START_LINE_LF;
          continue;
        }
        case P_START_LINE_LF: {
          if (i >= lim) break outer;
          if (src[i] !== LF) {
            return this.fail(`CR not followed by LF at the end of the ${this.startLineWord}`);
          }
          i++;
          phase = P_LINE;
          continue;
        }
        case P_LINE: {
          if (i >= lim) break outer;
          const c = src[i]!;
          if (c === CR) {
            i++;
            phase = P_END_LF;
            continue;
          }
          if (TOKEN[c] === 1) {
            if (this.fieldCount >= this.maxFields) {
              return this.fail(
                `more than ${this.maxFields} ${this.fieldWord}s`,
                'HEADERS_TOO_LARGE',
              );
            }
            if (this.fieldCount >= this.kinds.length) this.grow(this.fieldCount);
            this.lineStart = i;
            i++;
            phase = P_NAME;
            continue;
          }
          return this.fail(this.lineStartError(c));
        }
        case P_NAME: {
          while (i < lim && TOKEN[src[i]!] === 1) i++;
          if (i >= lim) break outer;
          const c = src[i]!;
          if (c !== COLON) return this.fail(this.nameError(src, c, i));
          const f = 4 * this.fieldCount;
          this.fields[f] = this.lineStart;
          this.fields[f + 1] = i;
          this.kinds[this.fieldCount] = fieldKind(src, this.lineStart, i);
          i++;
          phase = P_OWS;
          continue;
        }
        case P_OWS: {
          while (i < lim && (src[i] === SP || src[i] === HTAB)) i++;
          if (i >= lim) break outer;
          this.mark = i;
          phase = P_VALUE;
          continue;
        }
        case P_VALUE: {
          while (i < lim && FIELD_VALUE[src[i]!] === 1) i++;
          if (i >= lim) break outer;
          if (src[i] !== CR) return this.fail(this.valueError(src, src[i]!));
          let ve = i;
          const vs = this.mark;
          while (ve > vs && (src[ve - 1] === SP || src[ve - 1] === HTAB)) ve--;
          const f = 4 * this.fieldCount;
          this.fields[f + 2] = vs;
          this.fields[f + 3] = ve;
          this.fieldCount++;
          i++;
          phase = P_FIELD_LF;
          continue;
        }
        case P_FIELD_LF: {
          if (i >= lim) break outer;
          if (src[i] !== LF) return this.fail(`CR not followed by LF in a ${this.fieldWord} line`);
          i++;
          phase = P_LINE;
          continue;
        }
        case P_END_LF: {
          if (i >= lim) break outer;
          if (src[i] !== LF) {
            return this.fail(`CR not followed by LF at the end of the ${this.sectionWord}`);
          }
          return this.done(src, i + 1);
        }
      }
    }
    // Out of input, or out of budget.
    this.i = i;
    this.phase = phase;
    if (phase > P_START_LF && i >= this.base + this.maxBytes) {
      return this.fail(
        `${this.sectionWord} larger than ${this.maxBytes} bytes`,
        'HEADERS_TOO_LARGE',
      );
    }
    return NEED_MORE;
  }

  /** The head is src[base, end): make the strings. */
  private done(src: Buffer, end: number): number {
    const base = this.base;
    this.headBytes = end - base;
    const n = this.fieldCount;
    this.rawHeaders = NO_FIELDS;
    if (this.mode !== MODE_TRAILERS || n > 0) {
      const text = latin1(src, base, end);
      const f = this.fields;
      const raw: string[] = [];
      for (let k = 0; k < 4 * n; k += 4) {
        raw.push(
          text.slice(f[k]! - base, f[k + 1]! - base),
          text.slice(f[k + 2]! - base, f[k + 3]! - base),
        );
      }
      this.rawHeaders = raw;
      if (this.mode === MODE_REQUEST) {
        this.method = text.slice(0, this.methodEnd - base);
        this.target = text.slice(this.methodEnd + 1 - base, this.targetEnd - base);
      } else if (this.mode === MODE_RESPONSE) {
        this.reason = text.slice(this.reasonStart - base, this.reasonEnd - base);
      }
    }
    this.stash = undefined;
    this.stashing = false;
    this.stashLen = 0;
    return end;
  }

  private get startLineWord(): string {
    return this.mode === MODE_REQUEST ? 'request-line' : 'status-line';
  }

  private get sectionWord(): string {
    return this.mode === MODE_TRAILERS ? 'trailer section' : 'head';
  }

  private methodError(c: number, i: number): string {
    if (i === this.base) return `request-line starts with ${describeByte(c)} instead of a method`;
    if (c === CR || c === LF) return 'request-line has only a method';
    if (c === HTAB) return 'HTAB after the method (the request-line separator is a single SP)';
    return `${describeByte(c)} in the method (a method is a token, RFC 9110 §9.1)`;
  }

  private targetError(c: number, empty: boolean): string {
    if (c === SP) return 'empty request-target (more than one SP after the method?)';
    if (c === CR || c === LF) {
      return empty
        ? 'request-line has no request-target'
        : 'request-line has no HTTP-version (HTTP/0.9 is not supported)';
    }
    if (c === HASH) return 'fragment ("#") in the request-target (RFC 9112 §3.2)';
    if (c === BACKSLASH) return 'backslash in the path of the request-target';
    return `${describeByte(c)} in the request-target`;
  }

  private versionError(c: number): string {
    if (c === SP) return 'more than two SPs in the request-line (SP is not allowed in the target)';
    if (c === LF) return 'bare LF (without CR) ending the request-line';
    if (c < SP || c >= 0x7f) return `${describeByte(c)} in the HTTP-version`;
    return 'invalid HTTP-version (RFC 9112 §2.3)';
  }

  private lineStartError(c: number): string {
    if (c === SP || c === HTAB) {
      return this.fieldCount === 0 && this.mode !== MODE_TRAILERS
        ? `whitespace at the start of the first header line (RFC 9112 §2.2)`
        : `obs-fold: a ${this.fieldWord} line starts with whitespace (RFC 9112 §5.2)`;
    }
    if (c === LF) return `bare LF (without CR) in the ${this.sectionWord}`;
    if (c === COLON) return `empty ${this.fieldWord} name`;
    return `${describeByte(c)} in a ${this.fieldWord} name`;
  }

  private nameError(src: Buffer, c: number, i: number): string {
    const name = latin1(src, this.lineStart, i);
    if (c === SP || c === HTAB) {
      return `whitespace between ${this.fieldWord} name "${name}" and colon (RFC 9112 §5.1)`;
    }
    if (c === CR || c === LF) return `${this.fieldWord} line "${name}" has no colon`;
    return `${describeByte(c)} in ${this.fieldWord} name "${name}…"`;
  }

  private valueError(src: Buffer, c: number): string {
    const f = 4 * this.fieldCount;
    const name = latin1(src, this.fields[f]!, this.fields[f + 1]!);
    if (c === LF) return `bare LF (without CR) after the value of ${this.fieldWord} ${name}`;
    return `${describeByte(c)} in the value of ${this.fieldWord} ${name} (RFC 9110 §5.5)`;
  }
}

/** src[i, i+8) is "HTTP/1.1" or "HTTP/1.0", and two more bytes follow within lim. */
function isHttp1(src: Buffer, i: number, lim: number): boolean {
  return (
    i + 10 <= lim &&
    src[i] === 0x48 &&
    src[i + 1] === 0x54 &&
    src[i + 2] === 0x54 &&
    src[i + 3] === 0x50 &&
    src[i + 4] === 0x2f &&
    src[i + 5] === 0x31 &&
    src[i + 6] === 0x2e &&
    (src[i + 7] === 0x31 || src[i + 7] === 0x30)
  );
}

const UNSUPPORTED = -1;
const INVALID = -2;

/**
 * HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3). 1.1 → 1, 1.0 → 0, any
 * other well-formed version → UNSUPPORTED (505), anything else → INVALID (400).
 */
function version(b: Buffer, s: number, e: number): number {
  if (
    e - s !== 8 ||
    b[s] !== 0x48 ||
    b[s + 1] !== 0x54 ||
    b[s + 2] !== 0x54 ||
    b[s + 3] !== 0x50 ||
    b[s + 4] !== 0x2f ||
    b[s + 6] !== 0x2e
  ) {
    return INVALID;
  }
  const major = b[s + 5]! - 0x30;
  const minor = b[s + 7]! - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return INVALID;
  // RFC 9110 §2.5 suggests treating 1.2+ as 1.1; we refuse instead: no such version exists, and a
  // proxy should not guess what the sender meant by it.
  if (major === 1 && minor <= 1) return minor;
  return UNSUPPORTED;
}
