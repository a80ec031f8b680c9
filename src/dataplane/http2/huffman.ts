/**
 * HPACK's static Huffman code (RFC 7541 §5.2, Appendix B). Strings are latin1: one octet per
 * character, as the HTTP/1.1 parser keeps them, so a field crosses protocols unchanged.
 */
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman-table.ts';

const EOS = 256;

/**
 * The code as a binary tree in one array: node n's children are at 2n and 2n+1; a positive
 * entry is the next node, a negative one -(symbol + 1) a leaf, 0 a code that does not exist.
 */
const TREE: Int32Array = buildTree();

function buildTree(): Int32Array {
  const tree = new Int32Array(2 * 512);
  let nodes = 1;
  const add = (symbol: number, code: number, length: number) => {
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (bit === 0) {
        tree[slot] = -(symbol + 1);
        return;
      }
      if (tree[slot] === 0) tree[slot] = nodes++;
      node = tree[slot]!;
    }
  };
  for (let s = 0; s < 256; s++) add(s, HUFFMAN_CODES[s]!, HUFFMAN_LENGTHS[s]!);
  add(EOS, 0x3fffffff, 30);
  return tree;
}

let scratch = Buffer.allocUnsafe(4096);

/**
 * Decodes `src[start, end)`. Undefined when the input is not a valid encoding: EOS inside the
 * string, padding longer than 7 bits, or padding that is not the most significant bits of EOS
 * (all ones) — each a COMPRESSION_ERROR for the caller.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string | undefined {
  // Every code is at least 5 bits, so a string decodes to at most 8/5 of its length.
  const max = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < max) scratch = Buffer.allocUnsafe(max * 2);
  const out = scratch;
  let n = 0;
  let node = 0;
  let pending = 0; // bits read since the last whole symbol
  let ones = true; // whether those bits are all ones
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const v = (byte >>> bit) & 1;
      const next = TREE[2 * node + v]!;
      pending++;
      if (v === 0) ones = false;
      if (next < 0) {
        const symbol = -next - 1;
        if (symbol === EOS) return undefined;
        out[n++] = symbol;
        node = 0;
        pending = 0;
        ones = true;
      } else if (next === 0) {
        return undefined;
      } else {
        node = next;
      }
    }
  }
  if (pending > 7 || !ones) return undefined;
  return out.toString('latin1', 0, n);
}

/** Bytes `s` takes Huffman-encoded. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/** Writes `s` Huffman-encoded at `offset` (the caller reserved huffmanLength(s) bytes). */
export function huffmanEncode(s: string, dst: Uint8Array, offset: number): number {
  let acc = 0; // pending bits, right-aligned; never more than 7 + 30 of them, so kept in two steps
  let bits = 0;
  let o = offset;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    const code = HUFFMAN_CODES[c]!;
    let length = HUFFMAN_LENGTHS[c]!;
    // Feed the code in pieces of at most 16 bits so `acc` stays within 32-bit arithmetic.
    while (length > 0) {
      const take = length > 16 ? length - 16 : length;
      const piece = (code >>> (length - take)) & ((1 << take) - 1);
      acc = ((acc << take) | piece) >>> 0;
      bits += take;
      length -= take;
      while (bits >= 8) {
        bits -= 8;
        dst[o++] = (acc >>> bits) & 0xff;
      }
      acc &= (1 << bits) - 1;
    }
  }
  if (bits > 0) dst[o++] = ((acc << (8 - bits)) | (0xff >>> bits)) & 0xff;
  return o;
}
