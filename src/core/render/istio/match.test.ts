import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MatchExpr, StringTest } from '../../../config/kinds/native/match.ts';
import { compileFullMatch } from '../../../config/schema/regex.ts';
import { andBlocks, MAX_BLOCKS, matchBlocks } from './match.ts';
import { baggageMemberRegex, cookieRegex, re2Literal } from './regex.ts';

const h = (name: string, test: StringTest): MatchExpr => ({ kind: 'header', name, test });

describe('lane entry conditions as Istio match blocks', () => {
  const rendered: [string, MatchExpr, unknown][] = [
    [
      'one header test',
      h('x-user', { op: 'exact', value: 'alice' }),
      [{ headers: { 'x-user': { exact: 'alice' } } }],
    ],
    [
      'all of a header, a path and a method',
      {
        kind: 'all',
        of: [
          h('x-user', { op: 'in', values: ['alice', 'a.b'] }),
          { kind: 'path', test: { op: 'prefix', value: '/shop' } },
          { kind: 'method', test: { op: 'in', values: ['GET', 'POST'] } },
        ],
      },
      [
        {
          headers: { 'x-user': { regex: 'alice|a\\.b' } },
          uri: { prefix: '/shop' },
          method: { regex: 'GET|POST' },
        },
      ],
    ],
    [
      'any of two conditions: two blocks',
      {
        kind: 'any',
        of: [
          h('x-tester', { op: 'present' }),
          { kind: 'query', name: 'debug', test: { op: 'exact', value: '1' } },
        ],
      },
      [{ headers: { 'x-tester': {} } }, { queryParams: { debug: { exact: '1' } } }],
    ],
    [
      'not(any) distributes into withoutHeaders',
      {
        kind: 'not',
        of: { kind: 'any', of: [h('a', { op: 'exact', value: '1' }), h('b', { op: 'present' })] },
      },
      [{ withoutHeaders: { a: { exact: '1' }, b: {} } }],
    ],
    [
      'absent is withoutHeaders {}',
      h('x-lane', { op: 'absent' }),
      [{ withoutHeaders: { 'x-lane': {} } }],
    ],
    [
      'notEqual is withoutHeaders exact',
      h('env', { op: 'notEqual', value: 'prod' }),
      [{ withoutHeaders: { env: { exact: 'prod' } } }],
    ],
    [
      'a suffix is a regex',
      { kind: 'path', test: { op: 'suffix', value: '.json' } },
      [{ uri: { regex: '.*\\.json' } }],
    ],
  ];
  for (const [what, expr, blocks] of rendered) {
    it(`${what}`, () => {
      const r = matchBlocks(expr, 'spec.entry[0].match');
      assert.ok(r.ok, r.ok ? '' : r.message);
      assert.deepEqual(r.blocks, blocks);
    });
  }

  const unrenderable: [string, MatchExpr, string][] = [
    [
      'a negated path',
      { kind: 'not', of: { kind: 'path', test: { op: 'prefix', value: '/a' } } },
      'spec.entry[0].match.not.path',
    ],
    [
      'an absent query parameter',
      { kind: 'query', name: 'q', test: { op: 'absent' } },
      'spec.entry[0].match.query',
    ],
    [
      'a negated regex that matches empty',
      { kind: 'not', of: h('a', { op: 'regex', pattern: '.*' }) },
      'spec.entry[0].match.not.header',
    ],
    [
      'two tests of one header in one conjunction',
      {
        kind: 'all',
        of: [h('a', { op: 'prefix', value: 'x' }), h('a', { op: 'suffix', value: 'y' })],
      },
      'spec.entry[0].match.all[1].header',
    ],
  ];
  for (const [what, expr, path] of unrenderable) {
    it(`${what} has no Istio form, reported at ${path}`, () => {
      const r = matchBlocks(expr, 'spec.entry[0].match');
      assert.equal(r.ok, false);
      assert.equal(r.ok ? '' : r.path, path);
    });
  }

  it(`a condition that expands past ${MAX_BLOCKS} blocks is refused`, () => {
    const any = (n: string): MatchExpr => ({
      kind: 'any',
      of: [h(`${n}1`, { op: 'present' }), h(`${n}2`, { op: 'present' })],
    });
    const r = matchBlocks({ kind: 'all', of: ['a', 'b', 'c', 'd', 'e', 'f'].map(any) }, 'm');
    assert.equal(r.ok, false);
  });

  it('ANDs two blocks, and refuses two tests of one header', () => {
    assert.deepEqual(andBlocks({ headers: { a: { exact: '1' } } }, { withoutHeaders: { b: {} } }), {
      headers: { a: { exact: '1' } },
      withoutHeaders: { b: {} },
    });
    assert.equal(andBlocks({ headers: { a: {} } }, { headers: { a: { exact: '1' } } }), undefined);
  });
});

describe('RE2 patterns for carriers', () => {
  it('the baggage member regex matches exactly that member (RE2, full match)', () => {
    const re = compileFullMatch(baggageMemberRegex('lane', 's2'));
    assert.ok(re.ok);
    for (const yes of ['lane=s2', 'a=1,lane=s2', 'a=1, lane = s2 ;prop=x, b=2', 'x=1, lane=s2'])
      assert.ok(re.regexp.test(yes), yes);
    for (const no of [
      'lane=s20',
      'xlane=s2',
      'a=1,mylane=s2',
      'a=lane=s2',
      'other=s2;lane=s2',
      'lane=s',
    ])
      assert.ok(!re.regexp.test(no), no);
  });

  it('the cookie regex finds one cookie among others', () => {
    const re = compileFullMatch(cookieRegex('release', re2Literal('v2')));
    assert.ok(re.ok);
    for (const yes of ['release=v2', 'session=1; release=v2', 'release="v2"; a=b'])
      assert.ok(re.regexp.test(yes), yes);
    for (const no of ['release=v20', 'xrelease=v2', 'session=release=v2'])
      assert.ok(!re.regexp.test(no), no);
  });

  it('escapes every RE2 metacharacter in a literal', () => {
    const text = 'a.b*c+d?e(f)g|h[i]j{k}l^m$n\\o';
    const re = compileFullMatch(re2Literal(text));
    assert.ok(re.ok && re.regexp.test(text));
  });
});
