/**
 * HTTP/2 frame layout (RFC 9113 §4, §6): the 9-octet frame header, the frame types, flags,
 * settings and error codes, and the writers of every frame the proxy sends.
 */

export const FRAME_HEADER = 9;

export const DATA = 0x0;
export const HEADERS = 0x1;
export const PRIORITY = 0x2;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PUSH_PROMISE = 0x5;
export const PING = 0x6;
export const GOAWAY = 0x7;
export const WINDOW_UPDATE = 0x8;
export const CONTINUATION = 0x9;

export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;
export const PADDED = 0x8;
export const PRIORITY_FLAG = 0x20;

export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_ENABLE_PUSH = 0x2;
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
export const SETTINGS_MAX_FRAME_SIZE = 0x5;
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

/** Error codes (RFC 9113 §7), by name, and their names by code for logs. */
export const H2_ERRORS = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

export type H2ErrorName = keyof typeof H2_ERRORS;

const ERROR_NAMES = Object.fromEntries(Object.entries(H2_ERRORS).map(([k, v]) => [v, k]));

export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The default (and smallest allowed) SETTINGS_MAX_FRAME_SIZE. */
export const DEFAULT_MAX_FRAME = 16_384;
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 0x7fffffff;

function header(
  out: Buffer,
  o: number,
  length: number,
  type: number,
  flags: number,
  stream: number,
): void {
  out[o] = length >>> 16;
  out[o + 1] = (length >>> 8) & 0xff;
  out[o + 2] = length & 0xff;
  out[o + 3] = type;
  out[o + 4] = flags;
  out.writeUInt32BE(stream, o + 5);
}

export function frameHeader(length: number, type: number, flags: number, stream: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER);
  header(out, 0, length, type, flags, stream);
  return out;
}

export function settingsFrame(settings: readonly (readonly [number, number])[]): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + 6 * settings.length);
  header(out, 0, 6 * settings.length, SETTINGS, 0, 0);
  settings.forEach(([id, value], i) => {
    out.writeUInt16BE(id, FRAME_HEADER + 6 * i);
    out.writeUInt32BE(value, FRAME_HEADER + 6 * i + 2);
  });
  return out;
}

export const SETTINGS_ACK: Buffer = frameHeader(0, SETTINGS, ACK, 0);

export function pingFrame(payload: Buffer, ack: boolean): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + 8);
  header(out, 0, 8, PING, ack ? ACK : 0, 0);
  payload.copy(out, FRAME_HEADER, 0, 8);
  return out;
}

export function goawayFrame(lastStream: number, code: number, debug = ''): Buffer {
  const text = Buffer.from(debug, 'utf8');
  const out = Buffer.allocUnsafe(FRAME_HEADER + 8 + text.length);
  header(out, 0, 8 + text.length, GOAWAY, 0, 0);
  out.writeUInt32BE(lastStream & MAX_WINDOW, FRAME_HEADER);
  out.writeUInt32BE(code, FRAME_HEADER + 4);
  text.copy(out, FRAME_HEADER + 8);
  return out;
}

export function rstStreamFrame(stream: number, code: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + 4);
  header(out, 0, 4, RST_STREAM, 0, stream);
  out.writeUInt32BE(code, FRAME_HEADER);
  return out;
}

export function windowUpdateFrame(stream: number, increment: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + 4);
  header(out, 0, 4, WINDOW_UPDATE, 0, stream);
  out.writeUInt32BE(increment, FRAME_HEADER);
  return out;
}

/** A header block as HEADERS plus as many CONTINUATION frames as `maxFrame` requires, in one buffer. */
export function headersFrames(
  stream: number,
  block: Buffer,
  endStream: boolean,
  maxFrame: number,
): Buffer {
  const frames = Math.max(1, Math.ceil(block.length / maxFrame));
  const out = Buffer.allocUnsafe(block.length + FRAME_HEADER * frames);
  let o = 0;
  for (let i = 0, at = 0; i < frames; i++) {
    const length = Math.min(maxFrame, block.length - at);
    const last = i === frames - 1;
    const type = i === 0 ? HEADERS : CONTINUATION;
    const flags = (last ? END_HEADERS : 0) | (i === 0 && endStream ? END_STREAM : 0);
    header(out, o, length, type, flags, stream);
    block.copy(out, o + FRAME_HEADER, at, at + length);
    o += FRAME_HEADER + length;
    at += length;
  }
  return out;
}
