/**
 * HPACK (RFC 7541): header blocks ⇄ flat field arrays `[name, value, name, value, …]`, the same
 * shape the HTTP/1.1 parser gives, so a request view reads both without building header objects.
 * One decoder and one encoder per connection and direction, each with its dynamic table.
 */
import { huffmanDecode, huffmanEncode, huffmanLength } from './huffman.ts';

// biome-ignore format: the RFC's table, one entry a line would be 61 lines
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'],
  [':path', '/index.html'], [':scheme', 'http'], [':scheme', 'https'], [':status', '200'],
  [':status', '204'], [':status', '206'], [':status', '304'], [':status', '400'],
  [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''],
  ['accept', ''], ['access-control-allow-origin', ''], ['age', ''], ['allow', ''],
  ['authorization', ''], ['cache-control', ''], ['content-disposition', ''],
  ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''],
  ['date', ''], ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''],
  ['if-match', ''], ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''],
  ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''], ['location', ''],
  ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''],
  ['via', ''], ['www-authenticate', ''],
];

const STATIC_COUNT = STATIC_TABLE.length; // 61

/** The table size both sides start with (RFC 7541 §4.2; SETTINGS_HEADER_TABLE_SIZE default). */
export const DEFAULT_TABLE_SIZE = 4096;

/** An entry's size: its octets plus 32 (RFC 7541 §4.1). */
function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}

/**
 * Newest-first dynamic table in a ring. Index 1 is the newest entry (HPACK index 62).
 */
class DynamicTable {
  #names: string[] = new Array(64);
  #values: string[] = new Array(64);
  #head = 0; // slot of the newest entry
  #count = 0;
  size = 0;
  maxSize: number;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  get count(): number {
    return this.#count;
  }

  /** 1-based, newest first. */
  name(i: number): string {
    return this.#names[(this.#head - i + 1 + this.#names.length) % this.#names.length]!;
  }

  value(i: number): string {
    return this.#values[(this.#head - i + 1 + this.#values.length) % this.#values.length]!;
  }

  add(name: string, value: string): void {
    const size = entrySize(name, value);
    // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
    while (this.#count > 0 && this.size + size > this.maxSize) this.#evict();
    if (size > this.maxSize) return;
    if (this.#count === this.#names.length) this.#grow();
    this.#head = (this.#head + 1) % this.#names.length;
    this.#names[this.#head] = name;
    this.#values[this.#head] = value;
    this.#count++;
    this.size += size;
  }

  resize(maxSize: number): void {
    this.maxSize = maxSize;
    while (this.#count > 0 && this.size > maxSize) this.#evict();
  }

  #evict(): void {
    const oldest = this.#count;
    this.size -= entrySize(this.name(oldest), this.value(oldest));
    this.#count--;
  }

  #grow(): void {
    const n = this.#names.length;
    const names: string[] = new Array(n * 2);
    const values: string[] = new Array(n * 2);
    for (let i = 1; i <= this.#count; i++) {
      names[this.#count - i] = this.name(i);
      values[this.#count - i] = this.value(i);
    }
    this.#names = names;
    this.#values = values;
    this.#head = this.#count - 1;
  }
}

export type DecodeResult =
  /** `fields` holds the block; `listSize` counts it as SETTINGS_MAX_HEADER_LIST_SIZE does. */
  | { readonly ok: true; readonly listSize: number; readonly overLimit: boolean }
  /** A COMPRESSION_ERROR: the connection cannot go on (the table may be out of step). */
  | { readonly ok: false; readonly message: string };

/** Decodes header blocks of one connection direction. */
export class HpackDecoder {
  readonly #table: DynamicTable;
  /** The most we allow the peer's encoder (what we advertised as SETTINGS_HEADER_TABLE_SIZE). */
  readonly #limit: number;

  constructor(limit = DEFAULT_TABLE_SIZE) {
    this.#limit = limit;
    this.#table = new DynamicTable(limit);
  }

  /**
   * Appends the block's fields to `fields`. Past `maxListSize` the block is still decoded to the
   * end, so the table stays in step with the peer's, but its fields are not kept: the caller
   * answers 431 and the connection goes on.
   */
  decode(block: Buffer, fields: string[], maxListSize: number): DecodeResult {
    const table = this.#table;
    let p = 0;
    let listSize = 0;
    let overLimit = false;
    let sawField = false;
    const end = block.length;
    // Integers are read into these; -1 means the representation was cut short or too large.
    let int = 0;
    const readInt = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let v = block[p++]! & mask;
      if (v < mask) return v;
      let shift = 0;
      for (;;) {
        if (p >= end) return -1;
        const b = block[p++]!;
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (v > 0x7fffffff) return -1;
        if ((b & 0x80) === 0) return v;
      }
    };
    const readString = (): string | undefined => {
      if (p >= end) return undefined;
      const huffman = (block[p]! & 0x80) !== 0;
      const length = readInt(7);
      if (length < 0 || p + length > end) return undefined;
      const s = huffman ? huffmanDecode(block, p, p + length) : latin1(block, p, p + length);
      p += length;
      return s;
    };
    const emit = (name: string, value: string) => {
      sawField = true;
      listSize += entrySize(name, value);
      if (listSize > maxListSize) overLimit = true;
      if (!overLimit) fields.push(name, value);
    };
    const nameAt = (index: number): string | undefined => {
      if (index >= 1 && index <= STATIC_COUNT) return STATIC_TABLE[index - 1]![0];
      const d = index - STATIC_COUNT;
      return d >= 1 && d <= table.count ? table.name(d) : undefined;
    };
    while (p < end) {
      const b = block[p]!;
      if (b & 0x80) {
        // Indexed field (§6.1).
        int = readInt(7);
        if (int <= 0) return bad(int === 0 ? 'index 0' : 'integer overflow');
        if (int <= STATIC_COUNT) {
          const [name, value] = STATIC_TABLE[int - 1]!;
          emit(name, value);
        } else {
          const d = int - STATIC_COUNT;
          if (d > table.count) return bad(`index ${int} is past the dynamic table`);
          emit(table.name(d), table.value(d));
        }
      } else if ((b & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3): only before the first field of a block.
        if (sawField) return bad('a table size update after a field');
        int = readInt(5);
        if (int < 0 || int > this.#limit)
          return bad(`table size ${int} is over the ${this.#limit} allowed`);
        table.resize(int);
      } else {
        // Literal: with incremental indexing (01), without (0000) or never indexed (0001).
        const indexing = (b & 0xc0) === 0x40;
        int = readInt(indexing ? 6 : 4);
        if (int < 0) return bad('integer overflow');
        let name: string | undefined;
        if (int === 0) {
          name = readString();
          if (name === undefined) return bad('a malformed name literal');
        } else {
          name = nameAt(int);
          if (name === undefined) return bad(`name index ${int} does not exist`);
        }
        const value = readString();
        if (value === undefined) return bad('a malformed value literal');
        if (indexing) table.add(name, value);
        emit(name, value);
      }
    }
    return { ok: true, listSize, overLimit };
  }
}

function bad(detail: string): DecodeResult {
  return { ok: false, message: `header block cannot be decoded: ${detail}` };
}

function latin1(src: Buffer, start: number, end: number): string {
  return src.toString('latin1', start, end);
}

/** Static-table indices: `name\0value` for exact matches, `name` for the first entry of a name. */
const STATIC_EXACT = new Map<string, number>();
const STATIC_NAME = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  STATIC_EXACT.set(`${name}\0${value}`, i + 1);
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i + 1);
});

/**
 * Fields whose values change with nearly every message: indexing them would only push useful
 * entries out of the table. Sent as literals without indexing (their names still indexed).
 */
const NOT_INDEXED: ReadonlySet<string> = new Set([
  ':path',
  'content-length',
  'traceparent',
  'tracestate',
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'b3',
  'grpc-trace-bin',
  'date',
  'etag',
  'last-modified',
  'age',
  'if-modified-since',
  'if-none-match',
  'location',
  'grpc-timeout',
  'grpc-message',
]);

/**
 * Credentials are never indexed (RFC 7541 §7.1.3): the peer and any later hop must not put them
 * in a table where a compression oracle could probe them.
 */
const NEVER_INDEXED: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
]);

/** Values larger than this are not worth a table slot. */
const MAX_INDEXED_ENTRY = 512;

/** Encodes header blocks of one connection direction. */
export class HpackEncoder {
  /** Insertion id of each live entry by `name\0value` and by name (latest wins). */
  readonly #exact = new Map<string, number>();
  readonly #byName = new Map<string, number>();
  /** Entries oldest first with their insertion ids, for eviction. */
  readonly #entries: { key: string; name: string; id: number; size: number }[] = [];
  #first = 0; // index in #entries of the oldest live entry
  #nextId = 0;
  #size = 0;
  #maxSize = DEFAULT_TABLE_SIZE;
  /** A size update must open the next block (the peer lowered SETTINGS_HEADER_TABLE_SIZE). */
  #pendingUpdate: number | undefined;

  /** The peer's SETTINGS_HEADER_TABLE_SIZE; the encoder uses at most the default size. */
  setPeerLimit(limit: number): void {
    const size = Math.min(limit, DEFAULT_TABLE_SIZE);
    if (size === this.#maxSize) return;
    this.#maxSize = size;
    this.#pendingUpdate = Math.min(this.#pendingUpdate ?? size, size);
    this.#evictTo(size);
  }

  /** Encodes `[name, value, …]` (lower-case names) into one block. */
  encode(fields: readonly string[]): Buffer {
    let estimate = 8;
    for (let i = 0; i < fields.length; i++) estimate += fields[i]!.length + 6;
    const out = Buffer.allocUnsafe(estimate);
    let o = 0;
    if (this.#pendingUpdate !== undefined) {
      o = writeInt(out, o, 0x20, 5, this.#pendingUpdate);
      if (this.#pendingUpdate !== this.#maxSize) o = writeInt(out, o, 0x20, 5, this.#maxSize);
      this.#pendingUpdate = undefined;
    }
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      const key = `${name}\0${value}`;
      const exact = STATIC_EXACT.get(key) ?? this.#dynamicIndex(this.#exact.get(key));
      if (exact !== undefined) {
        o = writeInt(out, o, 0x80, 7, exact);
        continue;
      }
      const nameIndex = STATIC_NAME.get(name) ?? this.#dynamicIndex(this.#byName.get(name)) ?? 0;
      if (NEVER_INDEXED.has(name)) {
        o = writeInt(out, o, 0x10, 4, nameIndex);
      } else if (
        NOT_INDEXED.has(name) ||
        entrySize(name, value) > Math.min(MAX_INDEXED_ENTRY, this.#maxSize)
      ) {
        o = writeInt(out, o, 0x00, 4, nameIndex);
      } else {
        o = writeInt(out, o, 0x40, 6, nameIndex);
        this.#insert(key, name, value);
      }
      if (nameIndex === 0) o = writeString(out, o, name);
      o = writeString(out, o, value);
    }
    return out.subarray(0, o);
  }

  #dynamicIndex(id: number | undefined): number | undefined {
    return id === undefined ? undefined : STATIC_COUNT + 1 + (this.#nextId - id);
  }

  #insert(key: string, name: string, value: string): void {
    const size = entrySize(name, value);
    this.#evictTo(this.#maxSize - size);
    const id = ++this.#nextId;
    this.#entries.push({ key, name, id, size });
    this.#size += size;
    this.#exact.set(key, id);
    this.#byName.set(name, id);
  }

  #evictTo(size: number): void {
    const entries = this.#entries;
    while (this.#size > size && this.#first < entries.length) {
      const e = entries[this.#first++]!;
      this.#size -= e.size;
      if (this.#exact.get(e.key) === e.id) this.#exact.delete(e.key);
      if (this.#byName.get(e.name) === e.id) this.#byName.delete(e.name);
    }
    if (this.#first > 64 && this.#first * 2 > entries.length) {
      entries.splice(0, this.#first);
      this.#first = 0;
    }
  }
}

/** RFC 7541 §5.1: `prefixBits` of the first octet, which already carries `flags`. */
function writeInt(out: Buffer, o: number, flags: number, prefixBits: number, v: number): number {
  const max = (1 << prefixBits) - 1;
  if (v < max) {
    out[o++] = flags | v;
    return o;
  }
  out[o++] = flags | max;
  v -= max;
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  return o;
}

/** A string literal, Huffman-coded when that is shorter (RFC 7541 §5.2). */
function writeString(out: Buffer, o: number, s: string): number {
  const h = s.length > 8 ? huffmanLength(s) : s.length;
  if (h < s.length) {
    o = writeInt(out, o, 0x80, 7, h);
    return huffmanEncode(s, out, o);
  }
  o = writeInt(out, o, 0x00, 7, s.length);
  return o + out.write(s, o, 'latin1');
}
