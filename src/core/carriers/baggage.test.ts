import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readTestData } from '../../../test/support/test-data.ts';
import { isValidBaggageKey } from '../../config/kinds/carrier-names.ts';
import { seededRandom } from '../../util/seeded-random.ts';
import {
  BAGGAGE_MAX_BYTES,
  BAGGAGE_MAX_MEMBERS,
  BAGGAGE_SCAN_LIMIT,
  type BaggageEntry,
  type BaggageProperty,
  getBaggageValue,
  parseBaggage,
  removeBaggageKeys,
  serializeBaggage,
  setBaggageValue,
} from './baggage.ts';

interface VectorEntry {
  key: string;
  value: string;
  properties: BaggageProperty[];
  serialized: string;
}

type Vector =
  | {
      test: string;
      kind: 'baggage-string';
      input: string;
      expect: { entries: VectorEntry[]; serialized: string };
    }
  | { test: string; kind: 'list-member'; input: string; expect: VectorEntry };

const vectors = (JSON.parse(readTestData('w3c/baggage-vectors.json')) as { vectors: Vector[] })
  .vectors;

/** What a vector asserts: decoded key, value and properties; wire bytes differ between encoders. */
function decoded(
  entries: readonly { key: string; value: string; properties?: readonly BaggageProperty[] }[],
) {
  return entries.map((e) => ({ key: e.key, value: e.value, properties: e.properties ?? [] }));
}

function raws(header: string): string[] {
  return parseBaggage(header).map((e) => e.raw);
}

describe('W3C baggage test vectors', () => {
  test('the vector file is not empty', () => {
    assert.ok(vectors.length > 0);
  });

  for (const v of vectors) {
    const expected = v.kind === 'baggage-string' ? v.expect.entries : [v.expect];
    const wire = v.expect.serialized;

    describe(`${v.test} (${v.kind}) ${JSON.stringify(v.input)}`, () => {
      test('parses to the expected decoded entries and properties', () => {
        assert.deepEqual(decoded(parseBaggage(v.input)), decoded(expected));
      });

      test("reads the reference implementation's serialisation back to the same entries", () => {
        assert.deepEqual(decoded(parseBaggage(wire)), decoded(expected));
      });

      test('serialises to a header that parses back to the same entries', () => {
        assert.deepEqual(decoded(parseBaggage(serializeBaggage(expected))), decoded(expected));
      });

      test('getBaggageValue returns the decoded value of the first entry with each key', () => {
        for (const e of expected) {
          const first = expected.find((x) => x.key === e.key);
          assert.equal(getBaggageValue(v.input, e.key), first?.value);
        }
      });

      test('setBaggageValue puts the lane entry first and keeps these members verbatim', () => {
        const out = setBaggageValue(v.input, 'lane', 'v2');
        assert.equal(out, ['lane=v2', ...raws(v.input)].join(','));
        assert.deepEqual(decoded(parseBaggage(out)), [
          { key: 'lane', value: 'v2', properties: [] },
          ...decoded(expected),
        ]);
      });
    });
  }
});

describe('parseBaggage', () => {
  test('ignores OWS around members, "=", ";" and property values, and keeps inner OWS in raw', () => {
    const entries = parseBaggage(' \ta \t= \t1 \t; \tp \t= \tq \t;\tflag\t , \t b=2\t ');
    assert.deepEqual(entries, [
      {
        key: 'a',
        value: '1',
        properties: [
          { key: 'p', value: 'q' },
          { key: 'flag', value: null },
        ],
        raw: 'a \t= \t1 \t; \tp \t= \tq \t;\tflag',
      },
      { key: 'b', value: '2', properties: [], raw: 'b=2' },
    ] satisfies BaggageEntry[]);
  });

  test('keeps duplicate keys in order', () => {
    assert.deepEqual(
      parseBaggage('k=1,k=2').map((e) => e.value),
      ['1', '2'],
    );
  });

  test('accepts an empty value and values containing "="', () => {
    assert.deepEqual(
      parseBaggage('a=,b==x=').map((e) => [e.key, e.value]),
      [
        ['a', ''],
        ['b', '=x='],
      ],
    );
  });

  test('does not percent-decode keys or key-only properties', () => {
    const [entry] = parseBaggage('k%41=v;p%41');
    assert.equal(entry?.key, 'k%41');
    assert.deepEqual(entry?.properties, [{ key: 'p%41', value: null }]);
  });

  const decodings: [input: string, value: string, why: string][] = [
    ['k=%c3%a9', 'é', 'lower-case hex digits decode too'],
    [
      'k=%ZZ',
      '%ZZ',
      'a "%" without two hex digits stays literal, as in the reference implementation',
    ],
    ['k=100%', '100%', 'a trailing "%" stays literal'],
    ['k=%4', '%4', 'a "%" with one hex digit stays literal'],
    ['k=%C3', '\uFFFD', 'a truncated UTF-8 sequence becomes U+FFFD'],
    ['k=%FF%FE', '\uFFFD\uFFFD', 'bytes that are never UTF-8 become U+FFFD each'],
    ['k=%ED%A0%80', '\uFFFD\uFFFD\uFFFD', 'an encoded surrogate is not UTF-8 and becomes U+FFFD'],
    ['k=%EF%BB%BFx', '\uFEFFx', 'a leading byte-order mark is data, not dropped'],
    ['k=%00', '\u0000', 'an encoded NUL is data'],
  ];
  for (const [input, value, why] of decodings) {
    test(`decodes ${input} to ${JSON.stringify(value)}: ${why}`, () => {
      assert.equal(parseBaggage(input)[0]?.value, value);
      assert.equal(getBaggageValue(input, 'k'), value);
    });
  }

  test('decodes percent-encoded property values with the same rules', () => {
    assert.deepEqual(parseBaggage('k=v;p=%E2%9C%93%ZZ')[0]?.properties, [
      { key: 'p', value: '✓%ZZ' },
    ]);
  });
});

/** [input, keys of the well-formed members parse keeps] */
const malformed: [input: string, keys: string[], why: string][] = [
  ['a=1,,b=2', ['a', 'b'], 'empty members are skipped'],
  [',, ,\t,', [], 'a header of empty members has no entries'],
  ['', [], 'an empty header has no entries'],
  ['a,c=2', ['c'], 'a member without "=" is dropped'],
  ['=1,c=2', ['c'], 'a member with an empty key is dropped'],
  ['a b=1,c=2', ['c'], 'a key with a space is dropped'],
  ['a(=1,c=2', ['c'], 'a key with a non-token character is dropped'],
  ['é=1,c=2', ['c'], 'a non-ASCII key is dropped'],
  ['a=x y,c=2', ['c'], 'a value with inner whitespace is dropped'],
  ['a="q",c=2', ['c'], 'a value with DQUOTE is dropped'],
  ['a=b\\c,c=2', ['c'], 'a value with a backslash is dropped'],
  ['a=é,c=2', ['c'], 'a raw non-ASCII value is dropped'],
  ['a=1\u0000,c=2', ['c'], 'a value with NUL is dropped'],
  ['a=\r\n1,c=2', ['c'], 'a value with CR LF is dropped'],
  ['a=1\u007f,c=2', ['c'], 'a value with DEL is dropped'],
  ['a=1;,c=2', ['c'], 'a trailing ";" (no property) is dropped'],
  ['a=1;;p,c=2', ['c'], 'an empty property is dropped'],
  ['a=1;=v,c=2', ['c'], 'a property without a key is dropped'],
  ['a=1;p=x y,c=2', ['c'], 'a property value with inner whitespace is dropped'],
  ['a=%ZZ,c=2', ['a', 'c'], 'a stray "%" is grammatical and kept'],
  ['a=,c=2', ['a', 'c'], 'an empty value is grammatical and kept'],
];

describe('malformed input', () => {
  for (const [input, keys, why] of malformed) {
    test(`${JSON.stringify(input)}: ${why}`, () => {
      const entries = parseBaggage(input);
      assert.deepEqual(
        entries.map((e) => e.key),
        keys,
      );
      assert.equal(
        setBaggageValue(input, 'lane', 'v2'),
        ['lane=v2', ...entries.map((e) => e.raw)].join(','),
      );
      const rest = removeBaggageKeys(input, []);
      assert.equal(rest, keys.length === 0 ? undefined : entries.map((e) => e.raw).join(','));
    });
  }

  test('a 1 MB header without commas yields nothing and does not throw', () => {
    const header = `k=${'v'.repeat(1 << 20)}`;
    assert.deepEqual(parseBaggage(header), []);
    assert.equal(getBaggageValue(header, 'k'), undefined);
    assert.equal(setBaggageValue(header, 'lane', 'v2'), 'lane=v2');
    assert.equal(removeBaggageKeys(header, ['lane']), undefined);
  });

  test('a 1 MB header is read only as far as the scan limit', () => {
    const header = 'a=1,'.repeat((1 << 20) / 4);
    const entries = parseBaggage(header);
    assert.equal(entries.length, BAGGAGE_SCAN_LIMIT / 4);
    const out = setBaggageValue(header, 'lane', 'v2');
    assert.equal(parseBaggage(out).length, BAGGAGE_MAX_MEMBERS);
  });

  test('reads the members before an oversized tail in a 1 MB header', () => {
    const header = `a=1,${'x'.repeat(1 << 20)}`;
    assert.equal(getBaggageValue(header, 'a'), '1');
    assert.equal(setBaggageValue(header, 'lane', 'v2'), 'lane=v2,a=1');
  });

  test('1 MB of whitespace or random UTF-16 never throws', () => {
    const random = seededRandom(7);
    let junk = '';
    for (let i = 0; i < 1 << 20; i++) junk += String.fromCharCode(Math.floor(random() * 0x10000));
    for (const header of [' '.repeat(1 << 20), junk]) {
      assert.ok(Array.isArray(parseBaggage(header)));
      assert.equal(typeof setBaggageValue(header, 'lane', 'v2'), 'string');
      removeBaggageKeys(header, ['lane']);
      getBaggageValue(header, 'lane');
    }
  });
});

describe('getBaggageValue', () => {
  const cases: [header: string | undefined, key: string, value: string | undefined, why: string][] =
    [
      [undefined, 'version', undefined, 'no header has no value'],
      ['', 'version', undefined, 'an empty header has no value'],
      ['version=v2', '', undefined, 'an empty key matches nothing'],
      ['version=v1,version=v2', 'version', 'v1', 'the first member with the key wins'],
      ['Version=v1,version=v2', 'version', 'v2', 'keys compare case-sensitively'],
      [
        'versionX=1,version=v2',
        'version',
        'v2',
        'a key that only starts with the wanted key does not match',
      ],
      ['version2=1', 'version', undefined, 'a longer key is not a match'],
      ['version=a b,version=v2', 'version', 'v2', 'a malformed member with the key is skipped'],
      [' version \t=\t v2 \t;p', 'version', 'v2', 'OWS around the key, "=" and value is ignored'],
      ['version=dev%2Dalice', 'version', 'dev-alice', 'the value is percent-decoded'],
      ['versio%6E=v2', 'version', undefined, 'an encoded key is a different key'],
    ];
  for (const [header, key, value, why] of cases) {
    test(`${JSON.stringify(header)} → ${JSON.stringify(value)}: ${why}`, () => {
      assert.equal(getBaggageValue(header, key), value);
    });
  }
});

describe('setBaggageValue', () => {
  test('creates a header when there is none', () => {
    assert.equal(setBaggageValue(undefined, 'version', 'v2'), 'version=v2');
    assert.equal(setBaggageValue('', 'version', 'v2'), 'version=v2');
  });

  test('keeps other entries and their properties byte-for-byte when replacing the lane entry', () => {
    const header = 'a=1;p1;p2=%2Cx , version=v1;prop=1,b = hello%20world ;  q';
    assert.equal(
      setBaggageValue(header, 'version', 'v2'),
      'version=v2,a=1;p1;p2=%2Cx,b = hello%20world ;  q',
    );
  });

  test('removes every existing member with the key, including percent-encoded spellings of it', () => {
    const out = setBaggageValue(
      'version=v1,a=1,version=v3,versio%6E=dev,%76ersion=x',
      'version',
      'v2',
    );
    assert.equal(out, 'version=v2,a=1');
  });

  test('does not remove keys that differ in case', () => {
    assert.equal(setBaggageValue('Version=x', 'version', 'v2'), 'version=v2,Version=x');
  });

  const values = [
    'v2',
    'dev-alice',
    'a b',
    'a,b;c',
    '100%',
    '%41',
    'Amélie',
    '日本',
    '🚀',
    '"q"\\',
    '\t\n',
    '',
    '=x=',
  ];
  for (const value of values) {
    test(`round-trips the value ${JSON.stringify(value)} through percent-encoding`, () => {
      const header = setBaggageValue('a=1', 'k', value);
      assert.equal(getBaggageValue(header, 'k'), value);
      assert.equal(getBaggageValue(header, 'a'), '1');
    });
  }

  test('leaves lane tags and other baggage-octets unencoded', () => {
    assert.equal(setBaggageValue(undefined, 'k', 'dev-alice/v2:x=1'), 'k=dev-alice/v2:x=1');
  });

  test('encodes a lone surrogate as U+FFFD instead of throwing', () => {
    const header = setBaggageValue(undefined, 'k', 'a\uD800b');
    assert.equal(header, 'k=a%EF%BF%BDb');
    assert.equal(getBaggageValue(header, 'k'), 'a\uFFFDb');
  });

  for (const key of ['', 'a b', 'é', 'a=b', 'a,b', 'a;b']) {
    test(`throws a TypeError for the key ${JSON.stringify(key)}, which is not a token`, () => {
      assert.equal(isValidBaggageKey(key), false);
      assert.throws(() => setBaggageValue('a=1', key, 'v'), TypeError);
    });
  }
});

describe('limits', () => {
  const members = (n: number) => Array.from({ length: n }, (_, i) => `m${i}=${i}`);

  test('keeps 64 members: the lane entry and the first 63 others, in order, when given 70', () => {
    const out = setBaggageValue(members(70).join(','), 'lane', 'v2');
    assert.deepEqual(raws(out), ['lane=v2', ...members(63)]);
  });

  test('keeps all 64 members when the result has exactly 64', () => {
    const out = setBaggageValue(members(63).join(','), 'lane', 'v2');
    assert.deepEqual(raws(out), ['lane=v2', ...members(63)]);
  });

  test('removeBaggageKeys keeps the first 64 of 70 members', () => {
    assert.deepEqual(raws(removeBaggageKeys(members(70).join(','), []) ?? ''), members(64));
  });

  test('drops whole members from the end to stay within 8192 bytes', () => {
    const big = 'abcdefghij'.split('').map((k) => `${k}=${'x'.repeat(998)}`);
    const out = setBaggageValue(big.join(','), 'lane', 'v2');
    assert.ok(out.length <= BAGGAGE_MAX_BYTES);
    assert.deepEqual(raws(out), ['lane=v2', ...big.slice(0, 8)]);
  });

  test('skips a member too large to fit but keeps smaller members after it', () => {
    const out = setBaggageValue(`a=1,big=${'x'.repeat(9000)},small=1`, 'lane', 'v2');
    assert.equal(out, 'lane=v2,a=1,small=1');
  });

  test('keeps a result of exactly 8192 bytes and drops the member that would make it 8193', () => {
    const fits = `f=${'x'.repeat(BAGGAGE_MAX_BYTES - 'lane=v2,'.length - 2)}`;
    assert.equal(setBaggageValue(fits, 'lane', 'v2').length, BAGGAGE_MAX_BYTES);
    assert.equal(setBaggageValue(`${fits}x`, 'lane', 'v2'), 'lane=v2');
  });

  test('keeps our own entry even when it alone exceeds 8192 bytes', () => {
    const value = 'x'.repeat(9000);
    assert.equal(setBaggageValue('a=1', 'lane', value), `lane=${value}`);
  });

  test('serializeBaggage keeps the first 64 of 70 entries', () => {
    const entries = Array.from({ length: 70 }, (_, i) => ({ key: `m${i}`, value: `${i}` }));
    assert.deepEqual(raws(serializeBaggage(entries)), members(64));
  });
});

describe('removeBaggageKeys', () => {
  test('removes every listed key and keeps the rest verbatim', () => {
    const header = 'version=v2;p, a=1;q=%20 ,x-lane=dev,b=2';
    assert.equal(removeBaggageKeys(header, ['version', 'x-lane']), 'a=1;q=%20,b=2');
  });

  test('removes percent-encoded spellings of a listed key so a client cannot smuggle a lane past the edge', () => {
    assert.equal(removeBaggageKeys('versio%6E=dev-alice,%76ersion=x,a=1', ['version']), 'a=1');
  });

  test('returns undefined when nothing is left or there was no header', () => {
    assert.equal(removeBaggageKeys('version=v2', ['version']), undefined);
    assert.equal(removeBaggageKeys('', ['version']), undefined);
    assert.equal(removeBaggageKeys(undefined, ['version']), undefined);
  });

  test('returns an unchanged header unchanged', () => {
    assert.equal(removeBaggageKeys('a=1;p,b=2', ['version']), 'a=1;p,b=2');
  });
});

describe('serializeBaggage', () => {
  test('encodes values and property values and writes key-only properties bare', () => {
    const header = serializeBaggage([
      {
        key: 'a',
        value: 'x y',
        properties: [
          { key: 'p', value: 'é;' },
          { key: 'flag', value: null },
        ],
      },
      { key: 'a', value: '2' },
    ]);
    assert.equal(header, 'a=x%20y;p=%C3%A9%3B;flag,a=2');
  });

  test('returns an empty string for no entries', () => {
    assert.equal(serializeBaggage([]), '');
  });

  test('throws a TypeError for a key or property key that is not a token', () => {
    assert.throws(() => serializeBaggage([{ key: 'a b', value: '1' }]), TypeError);
    assert.throws(
      () => serializeBaggage([{ key: 'a', value: '1', properties: [{ key: '', value: null }] }]),
      TypeError,
    );
  });
});

describe('hot paths agree with the full parse on generated headers', () => {
  // Members built from parts that hit the lane key, its aliases and the malformed cases, joined
  // with odd separators and sometimes corrupted by one random character.
  const keys = ['version', 'version', 'Version', 'versio%6E', 'version2', 'a', 'b%', ''];
  const values = ['v2', 'dev-alice', '', 'x y', '%41', '%ZZ', 'é', '"q"', 'a=b', '%C3'];
  const props = ['', '', ';p', ' ; p = 1', ';', ';p=%20', ';=x'];
  const ows = ['', ' ', '\t', ' \t '];
  const junk = [',', ';', '=', ' ', '%', '"', '\u0000', 'é'];
  const random = seededRandom(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const headers = Array.from({ length: 3000 }, () => {
    const n = Math.floor(random() * 6);
    let h = '';
    for (let i = 0; i < n; i++) {
      if (i > 0) h += pick([',', ',', ' , ', ',,', '\t,']);
      h += `${pick(ows)}${pick(keys)}${pick(ows)}${random() < 0.95 ? '=' : ''}${pick(ows)}${pick(values)}${pick(props)}${pick(ows)}`;
    }
    if (h.length > 0 && random() < 0.3) {
      const at = Math.floor(random() * h.length);
      h = h.slice(0, at) + pick(junk) + h.slice(at);
    }
    return h;
  });
  const isLane = (key: string) =>
    key === 'version' || (key.includes('%') && safeDecode(key) === 'version');

  test('getBaggageValue equals the value of the first parsed entry with the key', () => {
    for (const h of headers) {
      assert.equal(
        getBaggageValue(h, 'version'),
        parseBaggage(h).find((e) => e.key === 'version')?.value,
        h,
      );
    }
  });

  test('setBaggageValue yields our entry once, first, followed by the other parsed members in order', () => {
    for (const h of headers) {
      const out = setBaggageValue(h, 'version', 'v9');
      const others = parseBaggage(h).filter((e) => !isLane(e.key));
      assert.deepEqual(raws(out), ['version=v9', ...others.map((e) => e.raw)], h);
    }
  });

  test('removeBaggageKeys yields exactly the parsed members without the key', () => {
    for (const h of headers) {
      const others = parseBaggage(h).filter((e) => !isLane(e.key));
      const out = removeBaggageKeys(h, ['version']);
      assert.equal(out, others.length === 0 ? undefined : others.map((e) => e.raw).join(','), h);
    }
  });
});

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
