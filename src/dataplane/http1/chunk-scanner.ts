/**
 * One chunk-size line of the chunked transfer coding (RFC 9112 §7.1), resumable byte by byte:
 *
 *   chunk-size [ chunk-ext ] CRLF
 *   chunk-size = 1*HEXDIG
 *   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val = token / quoted-string
 *
 * Strict where the grammar leaves room:
 * - no whitespace anywhere on the line. The BWS in chunk-ext is "bad" whitespace that senders
 *   MUST NOT produce (RFC 9110 §5.6.3); "5 \r\n" or "5 ;x" is what smuggling probes send, and
 *   parsers disagree on it;
 * - at most 16 hex digits and a size of at most 2^53-1, so the number stays exact (an overflowing
 *   size read modulo 2^64 by the next hop is a classic desync);
 * - a bare ";" (no extension name), a bare CR or a bare LF is an error.
 *
 * Extensions are validated and dropped. RFC 9112 §7.1.1: a recipient ought to limit their total
 * length. One line may carry at most 4 KiB of them, and a message at most 16 KiB plus twice its
 * chunk data so far (in the spirit of Go's net/http fix for CVE-2023-39326): streaming uploads that
 * sign every chunk (S3 "aws-chunked", ~80 bytes per 8–64 KiB chunk) pass, a body that is mostly
 * extensions does not.
 */
import { CR, DQUOTE, describeByte, EQUALS, HEX, LF, QDTEXT, SEMICOLON, TOKEN } from './chars.ts';
import { FAILED, NEED_MORE } from './head-scanner.ts';

export const MAX_CHUNK_EXT_LINE = 4096;
export const MAX_CHUNK_EXT_FREE = 16384;

const C_START = 0;
const C_SIZE = 1;
const C_EXT_NAME_START = 2;
const C_EXT_NAME = 3;
const C_EXT_VALUE_START = 4;
const C_EXT_TOKEN = 5;
const C_EXT_QUOTED = 6;
const C_EXT_QUOTED_ESC = 7;
const C_EXT_AFTER_QUOTED = 8;
const C_LF = 9;

const MAX_HEX_DIGITS = 16;
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

export class ChunkScanner {
  /** The chunk-size, once the line is complete. */
  size = 0;
  /** Why the line is invalid, after FAILED. */
  message = '';
  private phase = C_START;
  private digits = 0;
  private lineExt = 0;
  private messageExt = 0;
  private dataBytes = 0;

  /** Before the first chunk of a message. */
  startMessage(): void {
    this.messageExt = 0;
    this.dataBytes = 0;
    this.startLine();
  }

  /** Before each chunk-size line. */
  startLine(): void {
    this.phase = C_START;
    this.size = 0;
    this.digits = 0;
    this.lineExt = 0;
  }

  /** Returns the index after the line's LF, NEED_MORE (all bytes taken) or FAILED. */
  feed(buf: Buffer, pos: number, end: number): number {
    let i = pos;
    while (i < end) {
      const c = buf[i]!;
      switch (this.phase) {
        case C_START: {
          const h = HEX[c]!;
          if (h < 0) return this.fail(this.startError(c));
          this.size = h;
          this.digits = 1;
          this.phase = C_SIZE;
          break;
        }
        case C_SIZE: {
          const h = HEX[c]!;
          if (h >= 0) {
            if (++this.digits > MAX_HEX_DIGITS || this.size > (MAX_SIZE - h) / 16) {
              return this.fail('chunk-size larger than 2^53-1 (or more than 16 hex digits)');
            }
            this.size = this.size * 16 + h;
            break;
          }
          if (c === CR) {
            this.phase = C_LF;
            break;
          }
          if (c === SEMICOLON) {
            if (!this.countExt()) return FAILED;
            this.phase = C_EXT_NAME_START;
            break;
          }
          return this.fail(this.sizeError(c));
        }
        case C_LF: {
          if (c !== LF) return this.fail('CR not followed by LF after the chunk-size');
          this.dataBytes += this.size;
          return i + 1;
        }
        default: {
          if (!this.countExt()) return FAILED;
          if (!this.extByte(c)) return FAILED;
        }
      }
      i++;
    }
    return NEED_MORE;
  }

  /** One byte of chunk-ext; false when invalid (message set). */
  private extByte(c: number): boolean {
    switch (this.phase) {
      case C_EXT_NAME_START:
        if (TOKEN[c] !== 1) {
          this.fail(
            c === CR
              ? 'chunk extension without a name (bare ";")'
              : `${describeByte(c)} where a chunk extension name should start`,
          );
          return false;
        }
        this.phase = C_EXT_NAME;
        return true;
      case C_EXT_NAME:
      case C_EXT_TOKEN:
        if (TOKEN[c] === 1) return true;
        if (c === EQUALS && this.phase === C_EXT_NAME) {
          this.phase = C_EXT_VALUE_START;
          return true;
        }
        return this.afterExt(c);
      case C_EXT_VALUE_START:
        if (c === DQUOTE) {
          this.phase = C_EXT_QUOTED;
          return true;
        }
        if (TOKEN[c] === 1) {
          this.phase = C_EXT_TOKEN;
          return true;
        }
        this.fail(`${describeByte(c)} where a chunk extension value should start`);
        return false;
      case C_EXT_QUOTED:
        if (QDTEXT[c] === 1) return true;
        if (c === 0x5c) {
          this.phase = C_EXT_QUOTED_ESC;
          return true;
        }
        if (c === DQUOTE) {
          this.phase = C_EXT_AFTER_QUOTED;
          return true;
        }
        this.fail(`${describeByte(c)} in a quoted chunk extension value`);
        return false;
      case C_EXT_QUOTED_ESC:
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        if (c === 0x09 || (c >= 0x20 && c !== 0x7f)) {
          this.phase = C_EXT_QUOTED;
          return true;
        }
        this.fail(`${describeByte(c)} after "\\" in a quoted chunk extension value`);
        return false;
      default:
        return this.afterExt(c);
    }
  }

  /** After a complete extension (name, token value or quoted value): ";" or CR. */
  private afterExt(c: number): boolean {
    if (c === SEMICOLON) {
      this.phase = C_EXT_NAME_START;
      return true;
    }
    if (c === CR) {
      this.phase = C_LF;
      return true;
    }
    this.fail(
      c === LF
        ? 'bare LF (without CR) ending a chunk-size line'
        : `${describeByte(c)} in a chunk extension`,
    );
    return false;
  }

  private countExt(): boolean {
    if (++this.lineExt > MAX_CHUNK_EXT_LINE) {
      this.fail(`chunk extensions longer than ${MAX_CHUNK_EXT_LINE} bytes on one line`);
      return false;
    }
    if (++this.messageExt > MAX_CHUNK_EXT_FREE + 2 * this.dataBytes) {
      this.fail('chunk extensions make up too much of the body (RFC 9112 §7.1.1)');
      return false;
    }
    return true;
  }

  private fail(message: string): number {
    this.message = message;
    return FAILED;
  }

  private startError(c: number): string {
    if (c === CR) return 'empty chunk-size line';
    if (c === LF) return 'bare LF (without CR) where a chunk-size should be';
    if (c === 0x20 || c === 0x09) return 'whitespace before the chunk-size';
    return `${describeByte(c)} where a hexadecimal chunk-size should be`;
  }

  private sizeError(c: number): string {
    if (c === 0x20 || c === 0x09) return 'whitespace after the chunk-size';
    if (c === LF) return 'bare LF (without CR) after the chunk-size';
    return `${describeByte(c)} in the chunk-size (1*HEXDIG)`;
  }
}
