import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_OVERRIDE_LENGTH,
  MAX_OVERRIDE_PAIRS,
  overrideKey,
  pairsText,
  parseOverride,
  parseOverridePairs,
  serializeOverride,
  signOverride,
  verifyOverride,
} from './override.ts';

const KEY = overrideKey(Buffer.alloc(32, 7));
const OTHER = overrideKey(Buffer.alloc(32, 9));
const NOW = Date.UTC(2026, 0, 1);
const EXP = NOW / 1000 + 3600;

function pairsOf(text: string) {
  const p = parseOverridePairs(text);
  assert.ok('pairs' in p, JSON.stringify(p));
  return p.pairs;
}

function parsed(text: string) {
  const p = parseOverride(text);
  assert.ok(p.ok, p.ok ? '' : p.error);
  return p.override;
}

describe('override pairs', () => {
  const cases: readonly [string, string][] = [
    ['default/mockb=dev-bob', 'default/mockb=dev-bob'],
    ['default/mockc=v2, default/mockb=dev-bob', 'default/mockb=dev-bob,default/mockc=v2'],
    ['mockb=dev-bob', 'default/mockb=dev-bob'],
    ['mockb.shop=v2', 'shop/mockb=v2'],
    ['mockb.shop.svc.cluster.local = v2 ,', 'shop/mockb=v2'],
    ['a=lane.with.dots', 'default/a=lane.with.dots'],
  ];
  for (const [input, canonical] of cases) {
    test(`${JSON.stringify(input)} reads as ${canonical}`, () => {
      assert.equal(pairsText(pairsOf(input)), canonical);
    });
  }

  const bad: readonly [string, RegExp][] = [
    ['', /names no SERVICE=LANE/],
    ['mockb', /is not SERVICE=LANE/],
    ['mockb=a=b', /is not SERVICE=LANE/],
    ['www.example.com=v2', /not a service name.*never hosts/],
    ['mockb=10.0.0.1:80', /not a lane name.*never hosts, addresses or ports/],
    ['mockb=http://evil', /not a lane name/],
    ['mockb=V2', /not a lane name/],
    ['Mockb/x=v2', /not a service name/],
    ['mockb=v2,default/mockb=v3', /default\/mockb is named twice/],
    [Array.from({ length: MAX_OVERRIDE_PAIRS + 1 }, (_, i) => `s${i}=v`).join(','), /at most 16/],
  ];
  for (const [input, error] of bad) {
    test(`${JSON.stringify(input.slice(0, 40))} is refused (${error.source})`, () => {
      const p = parseOverridePairs(input);
      assert.ok('error' in p);
      assert.match(p.error, error);
    });
  }
});

describe('override tokens', () => {
  test('a signed token verifies, round-trips, and has the documented shape', () => {
    const token = signOverride(pairsOf('default/mockc=v2,default/mockb=dev-bob'), KEY, EXP);
    assert.match(
      token,
      /^default\/mockb=dev-bob,default\/mockc=v2;exp=\d+;kid=[0-9a-f]{8};sig=[A-Za-z0-9_-]{43}$/,
    );
    const p = parsed(token);
    assert.equal(serializeOverride(p), token);
    assert.deepEqual(verifyOverride(p, [KEY], NOW), { ok: true, exp: EXP, kid: KEY.kid });
  });

  test('spaces around the separators do not break the signature (it covers canonical pairs)', () => {
    const token = signOverride(pairsOf('default/mockb=dev-bob,default/mockc=v2'), KEY, EXP);
    const respelt = token
      .replace(',', ' , ')
      .replaceAll(';', ' ; ')
      .replace('default/mockc=v2', 'mockc=v2');
    assert.equal(verifyOverride(parsed(respelt), [KEY], NOW).ok, true);
  });

  test('a key id is the first 8 hex digits of the key hash and differs between keys', () => {
    assert.match(KEY.kid, /^[0-9a-f]{8}$/);
    assert.notEqual(KEY.kid, OTHER.kid);
    assert.throws(() => overrideKey(Buffer.alloc(8)), /at least 16 bytes/);
  });

  const token = signOverride(pairsOf('default/mockb=dev-bob'), KEY, EXP);
  const verdicts: readonly [string, string, number, string][] = [
    ['unsigned', 'default/mockb=dev-bob', NOW, 'unsigned'],
    ['expired', token, EXP * 1000, 'expired'],
    [
      'signed with a key the mesh does not have',
      signOverride(pairsOf('mockb=dev-bob'), OTHER, EXP),
      NOW,
      'foreign-key',
    ],
    [
      'with its pairs changed after signing',
      token.replace('dev-bob', 'dev-eve'),
      NOW,
      'bad-signature',
    ],
    [
      'with its expiry pushed back',
      token.replace(`exp=${EXP}`, `exp=${EXP + 86400}`),
      NOW,
      'bad-signature',
    ],
    [
      'with another signature',
      token.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A')),
      NOW,
      'bad-signature',
    ],
  ];
  for (const [what, text, now, reason] of verdicts) {
    test(`an override ${what} is not valid: ${reason}`, () => {
      const v = verifyOverride(parsed(text), [KEY], now);
      assert.equal(v.ok, false);
      assert.equal(v.ok ? '' : v.reason, reason);
    });
  }

  test('a retired key still verifies while it is in the list; the first key is not required', () => {
    const old = signOverride(pairsOf('mockb=dev-bob'), OTHER, EXP);
    assert.equal(verifyOverride(parsed(old), [KEY, OTHER], NOW).ok, true);
  });

  const malformed: readonly [string, RegExp][] = [
    ['mockb=v2;exp=1', /needs exp, kid and sig/],
    [`mockb=v2;exp=x;kid=12345678;sig=${'a'.repeat(43)}`, /exp must be Unix seconds/],
    [`mockb=v2;exp=1;kid=XYZ;sig=${'a'.repeat(43)}`, /kid must be 8/],
    ['mockb=v2;exp=1;kid=12345678;sig=short', /sig must be 43/],
    ['mockb=v2;host=evil.example', /unknown parameter "host"/],
    ['mockb=v2;exp=1;exp=2', /exp is given twice/],
    [`mockb=${'a'.repeat(MAX_OVERRIDE_LENGTH)}`, /over 2048 characters/],
  ];
  for (const [text, error] of malformed) {
    test(`${JSON.stringify(text.slice(0, 50))} is malformed (${error.source})`, () => {
      const p = parseOverride(text);
      assert.equal(p.ok, false);
      assert.match(p.ok ? '' : p.error, error);
    });
  }
});
