/** FNV-1a 32-bit over UTF-16 code units, and the sticky bucket built on it. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fnv1a32, stickyBucket } from './hash.ts';

/** A slow, independent FNV-1a with BigInt arithmetic. */
function reference(text: string): number {
  let hash = 0x811c9dc5n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x01000193n) % 0x100000000n;
  }
  return Number(hash);
}

describe('fnv1a32()', () => {
  const known: [string, number][] = [
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['b', 0xe70c2de5],
    ['foobar', 0xbf9cf968],
  ];
  for (const [text, want] of known) {
    test(`the published FNV-1a test vector for ${JSON.stringify(text)} is 0x${want.toString(16)}`, () => {
      assert.equal(fnv1a32(text), want);
    });
  }

  const others = ['v2/alice', 'dev-alice/user-42', 'é', '日本', '😀', 'x'.repeat(1000)];
  for (const text of others) {
    test(`${JSON.stringify(text.slice(0, 20))} matches a BigInt reference over UTF-16 code units`, () => {
      assert.equal(fnv1a32(text), reference(text));
    });
  }

  test('non-ASCII text hashes code units, not UTF-8 bytes', () => {
    // 'é' is one code unit (0xe9) but two UTF-8 bytes (0xc3 0xa9).
    assert.equal(fnv1a32('é'), Math.imul(0x811c9dc5 ^ 0xe9, 0x01000193) >>> 0);
  });

  test('results are unsigned 32-bit integers', () => {
    for (const text of ['', 'a', 'zzzz', '\uffff\uffff']) {
      const h = fnv1a32(text);
      assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `${text}: ${h}`);
    }
  });
});

describe('stickyBucket()', () => {
  test('is fnv1a32("<salt>/<key>") % 100', () => {
    for (const [salt, key] of [
      ['v2', 'alice'],
      ['beta', 'user-7'],
      ['', ''],
    ] as const) {
      assert.equal(stickyBucket(salt, key), fnv1a32(`${salt}/${key}`) % 100);
    }
  });

  test('spreads 10,000 keys roughly evenly over 100 buckets', () => {
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const b = stickyBucket('lane', `user-${i}`);
      counts[b] = (counts[b] ?? 0) + 1;
    }
    assert.ok(
      Math.min(...counts) > 60 && Math.max(...counts) < 140,
      `${Math.min(...counts)}..${Math.max(...counts)}`,
    );
  });
});
