import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_METHOD_BYTES } from './head-scanner.ts';
import { parseRequests } from './test-helpers.ts';

const H = 'Host: a\r\n';

describe('request-line: accepted forms', () => {
  const cases: [title: string, line: string, method: string, target: string, minor: 0 | 1][] = [
    ['origin-form with a query', 'GET /a/b?c=d&e HTTP/1.1', 'GET', '/a/b?c=d&e', 1],
    ['HTTP/1.0', 'GET / HTTP/1.0', 'GET', '/', 0],
    ['absolute-form http', 'GET http://h:8000/a?b HTTP/1.1', 'GET', 'http://h:8000/a?b', 1],
    ['absolute-form HTTPS without a path', 'GET HTTPS://h HTTP/1.1', 'GET', 'HTTPS://h', 1],
    ['authority-form for CONNECT', 'CONNECT h:443 HTTP/1.1', 'CONNECT', 'h:443', 1],
    [
      'authority-form with an IPv6 literal',
      'CONNECT [::1]:443 HTTP/1.1',
      'CONNECT',
      '[::1]:443',
      1,
    ],
    ['asterisk-form for OPTIONS', 'OPTIONS * HTTP/1.1', 'OPTIONS', '*', 1],
    ['an extension method', 'PURGE /x HTTP/1.1', 'PURGE', '/x', 1],
    ['a lowercase method (methods are case-sensitive tokens)', 'get / HTTP/1.1', 'get', '/', 1],
    ['a backslash in the query', 'GET /a?b=c\\d HTTP/1.1', 'GET', '/a?b=c\\d', 1],
    ['percent-encoded CR LF and NUL', 'GET /a%0d%0a%00 HTTP/1.1', 'GET', '/a%0d%0a%00', 1],
    [
      `a ${MAX_METHOD_BYTES}-byte method`,
      `${'M'.repeat(MAX_METHOD_BYTES)} / HTTP/1.1`,
      'M'.repeat(MAX_METHOD_BYTES),
      '/',
      1,
    ],
  ];
  for (const [title, line, method, target, minor] of cases) {
    test(`${title} is parsed`, () => {
      const rec = parseRequests(`${line}\r\n${H}\r\n`);
      assert.equal(rec.error, undefined);
      const head = rec.heads[0]!;
      assert.deepEqual([head.method, head.target, head.minor], [method, target, minor]);
    });
  }

  test('a target of exactly maxTargetBytes is accepted', () => {
    const target = `/${'a'.repeat(99)}`;
    const rec = parseRequests(`GET ${target} HTTP/1.1\r\n${H}\r\n`, 'whole', {
      maxTargetBytes: 100,
    });
    assert.equal(rec.heads[0]?.target, target);
  });

  test('one or two empty lines before the request-line are skipped (RFC 9112 §2.2)', () => {
    for (const lead of ['\r\n', '\r\n\r\n']) {
      const rec = parseRequests(`${lead}GET / HTTP/1.1\r\n${H}\r\n`);
      assert.equal(rec.heads[0]?.headBytes, `GET / HTTP/1.1\r\n${H}\r\n`.length);
    }
  });
});

describe('request-line: rejected', () => {
  const cases: [title: string, input: string, code: string, message: RegExp][] = [
    ['bare LF ending the request-line', `GET / HTTP/1.1\n${H}\r\n`, 'BAD_REQUEST', /bare LF/],
    [
      'bare CR ending the request-line',
      `GET / HTTP/1.1\r${H}\r\n`,
      'BAD_REQUEST',
      /CR not followed by LF/,
    ],
    [
      'two SPs after the method',
      `GET  / HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /empty request-target/,
    ],
    [
      'two SPs before the version',
      `GET /  HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /more than two SPs/,
    ],
    ['HTAB as separator', `GET\t/ HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /HTAB after the method/],
    ['SP inside the target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /more than two SPs/],
    ['a missing target', `GET HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /no HTTP-version/],
    ['a method alone', `GET\r\n${H}\r\n`, 'BAD_REQUEST', /only a method/],
    ['an HTTP/0.9 request', 'GET /\r\n\r\n', 'BAD_REQUEST', /HTTP\/0\.9/],
    ['a lowercase HTTP-name', `GET / http/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /invalid HTTP-version/],
    [
      'leading zeros in the version',
      `GET / HTTP/01.01\r\n${H}\r\n`,
      'BAD_REQUEST',
      /invalid HTTP-version/,
    ],
    ['a version without minor', `GET / HTTP/1\r\n${H}\r\n`, 'BAD_REQUEST', /invalid HTTP-version/],
    ['SP inside the version', `GET / HTTP/ 1.1\r\n${H}\r\n`, 'BAD_REQUEST', /more than two SPs/],
    [
      'HTTP/2.0',
      `GET / HTTP/2.0\r\n${H}\r\n`,
      'VERSION_NOT_SUPPORTED',
      /HTTP\/2\.0 is not supported/,
    ],
    ['HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`, 'VERSION_NOT_SUPPORTED', /HTTP\/1\.2/],
    ['HTTP/9.9', `GET / HTTP/9.9\r\n${H}\r\n`, 'VERSION_NOT_SUPPORTED', /HTTP\/9\.9/],
    ['a fragment in the target', `GET /a#b HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /fragment/],
    ['a backslash in the path', `GET /a\\b HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /backslash/],
    [
      'NUL in the target',
      `GET /\0 HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /NUL in the request-target/,
    ],
    ['DEL in the target', `GET /\x7f HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /0x7f/],
    [
      'non-ASCII in the target',
      `GET /caf\xc3\xa9 HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /non-ASCII/,
    ],
    ['a leading SP', ` GET / HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /starts with SP/],
    ['a whitespace-only line', '   \r\n\r\n', 'BAD_REQUEST', /starts with SP/],
    ['a non-token method', `G@T / HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /in the method/],
    [
      `a method over ${MAX_METHOD_BYTES} bytes`,
      `${'A'.repeat(100_000)} / HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /method longer than/,
    ],
    [
      'a target over maxTargetBytes',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\n${H}\r\n`,
      'URI_TOO_LONG',
      /request-target longer than 8192/,
    ],
    ['asterisk-form with GET', `GET * HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /only for OPTIONS/],
    [
      'origin-form with CONNECT',
      `CONNECT / HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /CONNECT needs an authority-form/,
    ],
    ['CONNECT without a port', `CONNECT h HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /has no port/],
    ['a relative target', `GET a/b HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /neither origin-form/],
    [
      'absolute-form with another scheme',
      `GET ftp://h/ HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /neither origin-form/,
    ],
    [
      'absolute-form with userinfo',
      `GET http://u:p@h/ HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /userinfo/,
    ],
    [
      'absolute-form with an empty authority',
      `GET http:///a HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /empty host/,
    ],
    [
      'three empty lines before the request-line',
      `\r\n\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`,
      'BAD_REQUEST',
      /more than 2 empty lines/,
    ],
    ['a bare LF before the request-line', `\nGET / HTTP/1.1\r\n${H}\r\n`, 'BAD_REQUEST', /bare LF/],
    [
      'the HTTP/2 connection preface',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'VERSION_NOT_SUPPORTED',
      /HTTP\/2\.0/,
    ],
  ];
  for (const [title, input, code, message] of cases) {
    test(`${title} is ${code}`, () => {
      const err = parseRequests(input).error;
      assert.equal(err?.code, code, JSON.stringify(err));
      assert.match(err.message, message);
    });
  }

  test('a long method fails as soon as it is longer than the limit, before the rest arrives', () => {
    const err = parseRequests('A'.repeat(MAX_METHOD_BYTES + 1)).error;
    assert.equal(err?.code, 'BAD_REQUEST');
  });

  test('a long target fails as soon as it exceeds maxTargetBytes', () => {
    const err = parseRequests(`GET /${'a'.repeat(200)}`, 'bytes', { maxTargetBytes: 100 }).error;
    assert.equal(err?.code, 'URI_TOO_LONG');
    assert.equal(err.status, 414);
  });
});
