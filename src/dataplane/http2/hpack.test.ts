import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../util/seeded-random.ts';
import { HpackDecoder, HpackEncoder } from './hpack.ts';
import { huffmanDecode, huffmanEncode, huffmanLength } from './huffman.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decodeAll(decoder: HpackDecoder, block: Buffer, max = 65536): string[] {
  const fields: string[] = [];
  const r = decoder.decode(block, fields, max);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return fields;
}

describe('huffman', () => {
  // RFC 7541 Appendix C.4 strings.
  const vectors: [string, string][] = [
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
  ];
  for (const [text, code] of vectors) {
    test(`"${text}" encodes to the RFC 7541 C.4 octets and decodes back`, () => {
      const bytes = hex(code);
      assert.equal(huffmanLength(text), bytes.length);
      const out = Buffer.alloc(bytes.length);
      assert.equal(huffmanEncode(text, out, 0), bytes.length);
      assert.deepEqual(out, bytes);
      assert.equal(huffmanDecode(bytes, 0, bytes.length), text);
    });
  }

  test('every octet value survives a round trip, including the 30-bit codes', () => {
    let all = '';
    for (let c = 0; c < 256; c++) all += String.fromCharCode(c);
    const out = Buffer.alloc(huffmanLength(all));
    huffmanEncode(all, out, 0);
    assert.equal(huffmanDecode(out, 0, out.length), all);
  });

  const invalid: [string, string][] = [
    ['padding longer than 7 bits', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff ff'],
    ['padding that is not all ones', 'a8eb 1064 9cbe'],
    ['the EOS symbol inside the string', 'ffff fffc'],
  ];
  for (const [what, code] of invalid) {
    test(`rejects ${what}`, () => {
      const bytes = hex(code);
      assert.equal(huffmanDecode(bytes, 0, bytes.length), undefined);
    });
  }
});

describe('HpackDecoder', () => {
  // RFC 7541 C.3 (plain literals) and C.4 (Huffman): three requests sharing one dynamic table.
  const requests: [title: string, blocks: string[]][] = [
    [
      'C.3 without Huffman coding',
      [
        '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        '8286 84be 5808 6e6f 2d63 6163 6865',
        '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
      ],
    ],
    [
      'C.4 with Huffman coding',
      [
        '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
        '8286 84be 5886 a8eb 1064 9cbf',
        '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
      ],
    ],
  ];
  const expected = [
    [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'],
    [
      ':method',
      'GET',
      ':scheme',
      'http',
      ':path',
      '/',
      ':authority',
      'www.example.com',
      'cache-control',
      'no-cache',
    ],
    [
      ':method',
      'GET',
      ':scheme',
      'https',
      ':path',
      '/index.html',
      ':authority',
      'www.example.com',
      'custom-key',
      'custom-value',
    ],
  ];
  for (const [title, blocks] of requests) {
    test(`decodes RFC 7541 ${title}, the dynamic table carrying over between blocks`, () => {
      const decoder = new HpackDecoder();
      blocks.forEach((b, i) => {
        assert.deepEqual(decodeAll(decoder, hex(b)), expected[i]);
      });
    });
  }

  const errors: [what: string, block: string][] = [
    ['index 0', '80'],
    ['an index past the dynamic table', 'be'],
    ['a name index that does not exist', '7f 10 01 61'],
    ['a table size update over the advertised size', '3f e2 1f'],
    ['a table size update after a field', '82 20'],
    ['a string longer than the block', '40 05 61'],
    ['an integer that never ends', 'ff ff ff ff ff ff'],
    ['an integer over 2^31', 'ff ff ff ff ff 0f'],
    ['an invalid Huffman string', '40 81 ff 81 61'],
  ];
  for (const [what, block] of errors) {
    test(`refuses ${what} as a compression error`, () => {
      const r = new HpackDecoder().decode(hex(block), [], 65536);
      assert.equal(r.ok, false);
    });
  }

  test('a block over the list limit is decoded to the end (the table stays in step) but not kept', () => {
    const decoder = new HpackDecoder();
    const fields: string[] = [];
    // custom-key: custom-value with incremental indexing, then a second block indexing it.
    const r = decoder.decode(
      hex('400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'),
      fields,
      10,
    );
    assert.ok(r.ok && r.overLimit);
    assert.deepEqual(fields, []);
    assert.deepEqual(decodeAll(decoder, hex('be')), ['custom-key', 'custom-value']);
  });

  test('an entry larger than the table empties it instead of being added', () => {
    const decoder = new HpackDecoder();
    decodeAll(decoder, hex('400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'));
    const big = 'x'.repeat(5000);
    const block = Buffer.concat([hex('4001 61 7f 89 26'), Buffer.from(big, 'latin1')]);
    assert.deepEqual(decodeAll(decoder, block), ['a', big]);
    assert.equal(decoder.decode(hex('be'), [], 65536).ok, false);
  });
});

describe('HpackEncoder', () => {
  test('what it encodes decodes to the same fields, block after block, as the table evicts', () => {
    const random = seededRandom(7);
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const names = [':method', ':path', 'x-lane', 'baggage', 'cookie', 'content-type', 'x-n'];
    for (let block = 0; block < 200; block++) {
      const fields: string[] = [];
      const n = 1 + Math.floor(random() * 8);
      for (let i = 0; i < n; i++) {
        const name = names[Math.floor(random() * names.length)]!;
        const length = Math.floor(random() * (random() < 0.1 ? 700 : 40));
        let value = '';
        for (let c = 0; c < length; c++)
          value += String.fromCharCode(32 + Math.floor(random() * 224));
        fields.push(name, value);
      }
      assert.deepEqual(decodeAll(decoder, encoder.encode(fields)), fields);
    }
  });

  test('a repeated field becomes a one-octet reference; credentials are never indexed', () => {
    const encoder = new HpackEncoder();
    encoder.encode(['x-lane', 'v2', 'authorization', 'secret']);
    const second = encoder.encode(['x-lane', 'v2', 'authorization', 'secret']);
    assert.equal(second[0], 0xbe); // index 62: the newest dynamic entry
    assert.equal(second[1]! & 0xf0, 0x10); // never-indexed literal
  });

  test('a lowered peer table size is announced at the start of the next block', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    decodeAll(decoder, encoder.encode(['x-a', '1']));
    encoder.setPeerLimit(0);
    const block = encoder.encode(['x-a', '1']);
    assert.equal(block[0], 0x20);
    assert.deepEqual(decodeAll(decoder, block), ['x-a', '1']);
  });
});
