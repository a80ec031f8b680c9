/**
 * Types shared by the HTTP/1.1 request and response parsers (RFC 9110, RFC 9112).
 */

export type Framing =
  | { readonly kind: 'none' } // no body
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' }; // responses only: body until the connection closes

export interface RequestHead {
  /** As sent (a token), e.g. 'GET'. Methods are case-sensitive (RFC 9110 §9.1). */
  readonly method: string;
  /**
   * Raw request-target: origin-form '/a?b', absolute-form 'http://h:8000/a', authority-form
   * 'h:443' (CONNECT only) or '*' (OPTIONS only).
   */
  readonly target: string;
  readonly minor: 0 | 1;
  /** [name, value, name, value, …]: names as received, values without surrounding OWS; latin1. */
  readonly rawHeaders: string[];
  /** The Host field's value (validated); undefined when there is none (HTTP/1.0). */
  readonly host: string | undefined;
  /** Never 'close' for requests. */
  readonly framing: Framing;
  /** HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`. */
  readonly keepAlive: boolean;
  /** The Upgrade field value when Connection lists "upgrade" (HTTP/1.1 only), else undefined. */
  readonly upgrade: string | undefined;
  readonly expect: 'none' | '100-continue' | 'other';
  /** Bytes of the request line and header section, including the final CRLF CRLF. */
  readonly headBytes: number;
}

export interface ResponseHead {
  /** 100–999 (three digits). */
  readonly status: number;
  readonly reason: string;
  readonly minor: 0 | 1;
  readonly rawHeaders: string[];
  /** Decided with the request method (HEAD → none) and the status (1xx/204/304 → none). */
  readonly framing: Framing;
  readonly keepAlive: boolean;
  readonly headBytes: number;
}

export type ParseErrorCode =
  | 'BAD_REQUEST' // 400: malformed request line/headers/framing, smuggling patterns
  | 'HEADERS_TOO_LARGE' // 431 (requests) / 502 (responses): header section over the limit
  | 'URI_TOO_LONG' // 414
  | 'NOT_IMPLEMENTED' // 501: a transfer-coding other than chunked
  | 'VERSION_NOT_SUPPORTED' // 505
  | 'BAD_RESPONSE'; // upstream sent something malformed (the proxy answers 502)

const STATUS: Readonly<Record<ParseErrorCode, number>> = {
  BAD_REQUEST: 400,
  HEADERS_TOO_LARGE: 431,
  URI_TOO_LONG: 414,
  NOT_IMPLEMENTED: 501,
  VERSION_NOT_SUPPORTED: 505,
  BAD_RESPONSE: 502,
};

/** What the parser reports through `onError`; the message says exactly what was wrong (for logs). */
export class ParseError extends Error {
  readonly code: ParseErrorCode;
  /** The status the proxy answers with: 431 for a request head over the limit, 502 for a response. */
  readonly status: number;

  constructor(code: ParseErrorCode, message: string, status: number = STATUS[code]) {
    super(message);
    this.name = 'ParseError';
    this.code = code;
    this.status = status;
  }
}

export interface ParserLimits {
  /** Request/status line + header section incl. the final CRLF CRLF; also the trailer section. */
  readonly maxHeadBytes: number;
  /** Header fields per head; also trailer fields per trailer section. */
  readonly maxHeaders: number;
  /** Request-target length (414 beyond it). */
  readonly maxTargetBytes: number;
}

export const DEFAULT_LIMITS: ParserLimits = Object.freeze({
  maxHeadBytes: 16384,
  maxHeaders: 100,
  maxTargetBytes: 8192,
});

/** Only the three known fields are read: callers may pass a larger config object. */
export function resolveLimits(limits: Partial<ParserLimits> | undefined): ParserLimits {
  const positive = (n: number | undefined, d: number) =>
    n !== undefined && Number.isSafeInteger(n) && n > 0 ? n : d;
  return {
    maxHeadBytes: positive(limits?.maxHeadBytes, DEFAULT_LIMITS.maxHeadBytes),
    maxHeaders: positive(limits?.maxHeaders, DEFAULT_LIMITS.maxHeaders),
    maxTargetBytes: positive(limits?.maxTargetBytes, DEFAULT_LIMITS.maxTargetBytes),
  };
}

export interface RequestEvents {
  onHead(head: RequestHead): void;
  /** Body bytes only (chunked framing removed): subarrays of the input (zero copy). */
  onBody(chunk: Buffer): void;
  /** Message complete; the raw trailer fields of a chunked body, if it had any. */
  onEnd(trailers: string[] | undefined): void;
  /** After this the parser is dead. */
  onError(err: ParseError): void;
}

export interface ResponseEvents {
  /** 100, 102, 103, … (never 101): another head follows. */
  onInformational(status: number, rawHeaders: string[]): void;
  /** 101 and 2xx to CONNECT included: then onEnd is NOT called; take the remainder and tunnel. */
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  onEnd(trailers: string[] | undefined): void;
  onError(err: ParseError): void;
}
