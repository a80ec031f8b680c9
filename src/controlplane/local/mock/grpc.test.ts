import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeText, encodeText } from './grpc.ts';

describe('the gRPC mock message (Text { string text = 1; })', () => {
  const cases: [text: string, hex: string][] = [
    ['a', '0a0161'],
    ['', ''],
    ['é', '0a02c3a9'],
    ['x'.repeat(200), `0ac801${'78'.repeat(200)}`],
  ];
  for (const [text, hex] of cases) {
    test(`${JSON.stringify(text.slice(0, 10))} (${text.length} chars) is ${hex.slice(0, 12)}… on the wire and back`, () => {
      assert.equal(encodeText(text).toString('hex'), hex);
      assert.equal(decodeText(Buffer.from(hex, 'hex')), text);
    });
  }

  test('fields other than 1 are skipped, as protobuf requires', () => {
    // field 2 varint 150, field 3 fixed64, then field 1.
    assert.equal(decodeText(Buffer.from('109601190000000000000000' + '0a026869', 'hex')), 'hi');
  });

  test('a truncated varint is an error, not a wrong answer', () => {
    assert.throws(() => decodeText(Buffer.from('0a', 'hex').subarray(0, 1).fill(0x8a)));
  });
});
