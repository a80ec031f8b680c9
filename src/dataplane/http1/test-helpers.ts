/**
 * Test support for the HTTP/1.1 parser tests: event recorders and input splitters. Not used by
 * the proxy.
 */

import { RequestParser } from './request-parser.ts';
import { ResponseParser } from './response-parser.ts';
import type { ParseError, ParserLimits, RequestHead, ResponseHead } from './types.ts';

export type Event =
  | { readonly type: 'head'; readonly head: RequestHead | ResponseHead }
  | { readonly type: 'info'; readonly status: number; readonly rawHeaders: string[] }
  | { readonly type: 'body'; readonly data: string }
  | { readonly type: 'end'; readonly trailers: string[] | undefined }
  | {
      readonly type: 'error';
      readonly code: string;
      readonly status: number;
      readonly message: string;
    };

/** Records events; consecutive body chunks are merged (their boundaries depend on the input split). */
export class Recorder {
  readonly events: Event[] = [];
  /** Every body chunk as delivered. */
  readonly chunks: Buffer[] = [];

  onHead(head: RequestHead | ResponseHead): void {
    this.events.push({ type: 'head', head });
  }
  onInformational(status: number, rawHeaders: string[]): void {
    this.events.push({ type: 'info', status, rawHeaders });
  }
  onBody(chunk: Buffer): void {
    this.chunks.push(chunk);
    const last = this.events[this.events.length - 1];
    const data = chunk.toString('latin1');
    if (last?.type === 'body')
      this.events[this.events.length - 1] = { type: 'body', data: last.data + data };
    else this.events.push({ type: 'body', data });
  }
  onEnd(trailers: string[] | undefined): void {
    this.events.push({ type: 'end', trailers });
  }
  onError(err: ParseError): void {
    this.events.push({ type: 'error', code: err.code, status: err.status, message: err.message });
  }

  get error(): Extract<Event, { type: 'error' }> | undefined {
    return this.events.find((e) => e.type === 'error') as
      | Extract<Event, { type: 'error' }>
      | undefined;
  }
  get heads(): RequestHead[] {
    return this.events.filter((e) => e.type === 'head').map((e) => e.head as RequestHead);
  }
  get responseHeads(): ResponseHead[] {
    return this.events.filter((e) => e.type === 'head').map((e) => e.head as ResponseHead);
  }
  get bodies(): string[] {
    return this.events.filter((e) => e.type === 'body').map((e) => e.data);
  }
}

/** latin1 bytes of a string (so "\xff" is one byte 0xff). */
export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** `input` cut into pieces: whole, one byte each, or at random points. */
export function split(input: Buffer, how: 'whole' | 'bytes' | (() => number)): Buffer[] {
  if (how === 'whole') return [input];
  const out: Buffer[] = [];
  if (how === 'bytes') {
    for (let i = 0; i < input.length; i++) out.push(input.subarray(i, i + 1));
    return out;
  }
  let i = 0;
  while (i < input.length) {
    const n = 1 + Math.floor(how() * Math.min(40, input.length - i));
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}

export function parseRequests(
  input: string | Buffer,
  how: 'whole' | 'bytes' | (() => number) = 'whole',
  limits?: Partial<ParserLimits>,
): Recorder {
  const rec = new Recorder();
  const parser = new RequestParser(rec, limits);
  for (const piece of split(typeof input === 'string' ? bytes(input) : input, how)) {
    parser.execute(piece);
  }
  return rec;
}

export function parseResponses(
  input: string | Buffer,
  methods: readonly string[],
  options: {
    how?: 'whole' | 'bytes' | (() => number);
    finish?: boolean;
    limits?: Partial<ParserLimits>;
  } = {},
): Recorder {
  const rec = new Recorder();
  const parser = new ResponseParser(rec, options.limits);
  for (const m of methods) parser.expect(m);
  for (const piece of split(
    typeof input === 'string' ? bytes(input) : input,
    options.how ?? 'whole',
  )) {
    parser.execute(piece);
  }
  if (options.finish) parser.finish();
  return rec;
}
