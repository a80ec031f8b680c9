import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  connectionOptions,
  expectation,
  parseContentLength,
  transferEncodingProblem,
} from './field-values.ts';
import { hostProblem } from './host.ts';
import { targetProblem } from './target.ts';

describe('Content-Length values', () => {
  const valid: [string, number][] = [
    ['0', 0],
    ['5', 5],
    ['1234567890', 1234567890],
    ['9007199254740991', 9007199254740991],
  ];
  for (const [v, n] of valid) test(`"${v}" is ${n}`, () => assert.equal(parseContentLength(v), n));
  const invalid = [
    '',
    '+5',
    '-5',
    '5 ',
    ' 5',
    '5,5',
    '0x5',
    '5.0',
    '1e3',
    '005',
    '00',
    '9007199254740992',
    '\u0665',
  ];
  for (const v of invalid) {
    test(`${JSON.stringify(v)} is invalid`, () =>
      assert.equal(typeof parseContentLength(v), 'string'));
  }
});

describe('Transfer-Encoding values', () => {
  const cases: [value: string, verdict: 'ok' | 'malformed' | 'unsupported'][] = [
    ['chunked', 'ok'],
    ['CHUNKED', 'ok'],
    ['chunked , chunked', 'malformed'],
    ['gzip,chunked', 'unsupported'],
    ['gzip ,\tchunked', 'unsupported'],
    ['identity', 'malformed'],
    ['chunked, identity', 'malformed'],
    [',chunked', 'malformed'],
    ['chunked;a=b', 'malformed'],
    ['chun ked', 'malformed'],
    ['', 'malformed'],
  ];
  for (const [value, verdict] of cases) {
    test(`${JSON.stringify(value)} is ${verdict}`, () => {
      const problem = transferEncodingProblem(value);
      const got = problem === undefined ? 'ok' : problem.unsupported ? 'unsupported' : 'malformed';
      assert.equal(got, verdict);
    });
  }
});

describe('Connection and Expect values', () => {
  test('connection options are found in lists, in any case, with OWS', () => {
    assert.equal(connectionOptions('close'), CONN_CLOSE);
    assert.equal(connectionOptions(' Keep-Alive ,\tUPGRADE'), CONN_KEEP_ALIVE | CONN_UPGRADE);
    assert.equal(connectionOptions('x-close, closed, upgraded'), 0);
    assert.equal(connectionOptions(''), 0);
  });
  test('expectations', () => {
    assert.equal(expectation('100-continue'), '100-continue');
    assert.equal(expectation(' 100-CONTINUE , '), '100-continue');
    assert.equal(expectation('100-continue, x'), 'other');
    assert.equal(expectation(''), 'none');
  });
});

describe('hosts and targets', () => {
  const hosts: [string, boolean][] = [
    ['a', true],
    ['a.b-c_d~e:65535', true],
    ['[::ffff:1.2.3.4]', true],
    ['%41b', true],
    ['a:0', true],
    ['', false],
    [':80', false],
    ['a:', false],
    ['a:65536', false],
    ['a b', false],
    ['a,b', false],
    ['a!b', false],
    ['[v1.x]', false],
    ['[::1', false],
    ['[::1]x', false],
    ['%4', false],
    ['\u00e9', false],
  ];
  for (const [host, ok] of hosts) {
    test(`${JSON.stringify(host)} is ${ok ? 'a valid' : 'an invalid'} host`, () => {
      assert.equal(hostProblem(host, false) === undefined, ok);
    });
  }
  test('CONNECT needs a port', () => {
    assert.equal(targetProblem('CONNECT', 'a:443'), undefined);
    assert.match(targetProblem('CONNECT', 'a') ?? '', /no port/);
  });
  test('absolute-form needs http(s) and an authority without userinfo', () => {
    assert.equal(targetProblem('GET', 'http://a:1/x?y'), undefined);
    assert.equal(targetProblem('GET', 'HTTP://a'), undefined);
    assert.match(targetProblem('GET', 'http:/a') ?? '', /without "\/\/"/);
    assert.match(targetProblem('GET', 'http://@a/') ?? '', /userinfo/);
    assert.match(targetProblem('GET', 'urn:x') ?? '', /neither origin-form/);
  });
});
