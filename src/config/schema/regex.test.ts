import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFullMatch, compileRe2, re2Replacement } from './regex.ts';

describe('RE2 patterns', () => {
  const matching: [string, string, boolean][] = [
    ['\\d+$', '123', true],
    ['\\d+$', 'a123', false], // whole-value match, as Istio's queryParams example says
    ['v1|v2', 'v1', true],
    ['v1|v2', 'xv1', false],
    ['(?i)alice', 'ALICE', true],
    ['(?P<n>a+)b', 'aab', true],
    ['[[:digit:]]+', '42', true],
    ['[[:alpha:]]+', '42', false],
    ['\\Aab\\z', 'ab', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['[]a]+', ']a]', true],
    ['\\pL+', 'héllo', true],
    ['.*x-canary=true.*', 'a=1,x-canary=true', true],
  ];
  for (const [pattern, input, expected] of matching) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(input)}`, () => {
      const r = compileFullMatch(pattern);
      assert.ok(r.ok, r.ok ? '' : r.message);
      assert.equal(r.regexp.test(input), expected);
    });
  }

  const rejected: [string, RegExp][] = [
    ['', /regex string match should not be empty/],
    ['a'.repeat(1025), /regex is too large, max length allowed is 1024/],
    ['a(?=b)', /lookahead/],
    ['(?<=a)b', /lookbehind/],
    ['(a)\\1', /backreferences/],
    ['(?U)a+', /ungreedy/],
    ['[[:nope:]]', /unknown POSIX class/],
    ['a(', /Istio uses RE2 style regex-based match/],
  ];
  for (const [pattern, message] of rejected) {
    it(`rejects ${JSON.stringify(pattern.slice(0, 20))} with a message saying why`, () => {
      const r = compileFullMatch(pattern);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.message, message);
    });
  }

  it('rewrites every occurrence with RE2 capture references', () => {
    const r = compileRe2('/v1/([^/]+)', 'global');
    assert.ok(r.ok);
    assert.equal('/v1/a/v1/b'.replace(r.regexp, re2Replacement('/v2/\\1')), '/v2/a/v2/b');
    // A literal `$` in the template stays literal.
    assert.equal('ab'.replace(/(b)/, re2Replacement('$1\\1')), 'a$1b');
  });
});
