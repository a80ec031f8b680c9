import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequests } from './test-helpers.ts';

const req = (fields: string) => `GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`;

describe('header fields: accepted', () => {
  const cases: [title: string, fields: string, raw: string[]][] = [
    ['a value loses surrounding SP and HTAB', 'X-A: \t v  w \t\r\n', ['X-A', 'v  w']],
    ['an empty value stays empty', 'X-A:\r\n', ['X-A', '']],
    ['a value of only whitespace becomes empty', 'X-A:   \r\n', ['X-A', '']],
    ['HTAB inside a value is kept', 'X-A: a\tb\r\n', ['X-A', 'a\tb']],
    ['obs-text is kept as latin1', 'X-A: caf\xe9\xff\r\n', ['X-A', 'caf\xe9\xff']],
    ['names keep their case', 'x-LaNe: dev\r\n', ['x-LaNe', 'dev']],
    [
      'every tchar is allowed in a name',
      "!#$%&'*+-.^_`|~09aZ: v\r\n",
      ["!#$%&'*+-.^_`|~09aZ", 'v'],
    ],
    ['duplicate fields stay separate, in order', 'C: 1\r\nC: 2\r\n', ['C', '1', 'C', '2']],
    ['a name with "_" other than a framing lookalike', 'X_Custom: 1\r\n', ['X_Custom', '1']],
  ];
  for (const [title, fields, raw] of cases) {
    test(title, () => {
      const rec = parseRequests(req(fields));
      assert.equal(rec.error, undefined);
      assert.deepEqual(rec.heads[0]?.rawHeaders, ['Host', 'a', ...raw]);
    });
  }

  test('headBytes counts the request-line and the header section with the final CRLF', () => {
    const text = req('X-A: 1\r\n');
    assert.equal(parseRequests(text).heads[0]?.headBytes, text.length);
  });

  test('exactly maxHeaders fields are accepted', () => {
    const fields = Array.from({ length: 9 }, (_, i) => `X-${i}: v\r\n`).join('');
    const rec = parseRequests(req(fields), 'whole', { maxHeaders: 10 });
    assert.equal(rec.heads[0]?.rawHeaders.length, 20);
  });

  test('a raised maxHeaders admits more fields than are allocated up front', () => {
    const fields = Array.from({ length: 500 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    const limits = { maxHeaders: 1000, maxHeadBytes: 65536 };
    for (const how of ['whole', 'bytes'] as const) {
      const raw = parseRequests(req(fields), how, limits).heads[0]?.rawHeaders;
      assert.equal(raw?.length, 1002);
      assert.deepEqual(raw?.slice(-2), ['X-499', '499']);
    }
  });

  test('a head of exactly maxHeadBytes is accepted', () => {
    const base = req('X-Pad: \r\n');
    const text = req(`X-Pad: ${'p'.repeat(1000 - base.length)}\r\n`);
    assert.equal(text.length, 1000);
    assert.equal(parseRequests(text, 'whole', { maxHeadBytes: 1000 }).heads.length, 1);
    assert.equal(parseRequests(text, 'bytes', { maxHeadBytes: 1000 }).heads.length, 1);
  });
});

describe('header fields: rejected', () => {
  const cases: [title: string, input: string, code: string, message: RegExp][] = [
    ['obs-fold (RFC 9112 §5.2)', req('X-A: v\r\n continued\r\n'), 'BAD_REQUEST', /obs-fold/],
    ['obs-fold with HTAB', req('X-A: v\r\n\tcontinued\r\n'), 'BAD_REQUEST', /obs-fold/],
    [
      'whitespace before the first field (RFC 9112 §2.2)',
      'GET / HTTP/1.1\r\n \r\nHost: a\r\n\r\n',
      'BAD_REQUEST',
      /whitespace at the start of the first header line/,
    ],
    [
      'SP between name and colon (RFC 9112 §5.1)',
      req('X-A : v\r\n'),
      'BAD_REQUEST',
      /whitespace between header field name "X-A" and colon/,
    ],
    ['HTAB between name and colon', req('X-A\t: v\r\n'), 'BAD_REQUEST', /whitespace between/],
    ['an empty name', req(': v\r\n'), 'BAD_REQUEST', /empty header field name/],
    ['a line without colon', req('NoColon\r\n'), 'BAD_REQUEST', /has no colon/],
    [
      'a non-token byte in a name',
      req('Bad[Name: v\r\n'),
      'BAD_REQUEST',
      /"\[" in header field name/,
    ],
    ['HTAB inside a name', req('Content\tLength: 5\r\n'), 'BAD_REQUEST', /whitespace between/],
    [
      'non-ASCII in a name',
      req('X-T\xc3\xabst: v\r\n'),
      'BAD_REQUEST',
      /non-ASCII byte 0xc3 in header field name/,
    ],
    ['NUL in a value', req('X-A: a\0b\r\n'), 'BAD_REQUEST', /NUL in the value of header field X-A/],
    [
      'a control character in a value',
      req('X-A: a\x07b\r\n'),
      'BAD_REQUEST',
      /control character 0x07/,
    ],
    ['vertical tab in a value', req('X-A: \x0bchunked\r\n'), 'BAD_REQUEST', /0x0b/],
    ['form feed in a value', req('X-A: \x0cv\r\n'), 'BAD_REQUEST', /0x0c/],
    ['DEL in a value', req('X-A: a\x7fb\r\n'), 'BAD_REQUEST', /0x7f/],
    ['a bare CR inside a value', req('X-A: a\rb\r\n'), 'BAD_REQUEST', /CR not followed by LF/],
    [
      'a bare LF ending a field line',
      'GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n',
      'BAD_REQUEST',
      /bare LF/,
    ],
    [
      'a bare LF as the final empty line',
      'GET / HTTP/1.1\r\nHost: a\r\n\n',
      'BAD_REQUEST',
      /bare LF/,
    ],
    [
      'a CR not followed by LF as the final line',
      'GET / HTTP/1.1\r\nHost: a\r\n\rX',
      'BAD_REQUEST',
      /CR not followed by LF at the end of the head/,
    ],
    [
      'Content_Length (lookalike of a framing field)',
      req('Content_Length: 5\r\n'),
      'BAD_REQUEST',
      /"Content_Length" differs from a framing header/,
    ],
    [
      'Transfer_Encoding (lookalike of a framing field)',
      req('Transfer_Encoding: chunked\r\n'),
      'BAD_REQUEST',
      /"Transfer_Encoding"/,
    ],
  ];
  for (const [title, input, code, message] of cases) {
    test(`${title} is ${code}`, () => {
      const err = parseRequests(input).error;
      assert.equal(err?.code, code, JSON.stringify(err));
      assert.match(err.message, message);
    });
  }

  test('more than maxHeaders fields is HEADERS_TOO_LARGE with status 431', () => {
    const fields = Array.from({ length: 10 }, (_, i) => `X-${i}: v\r\n`).join('');
    const err = parseRequests(req(fields), 'whole', { maxHeaders: 10 }).error;
    assert.equal(err?.code, 'HEADERS_TOO_LARGE');
    assert.equal(err.status, 431);
    assert.match(err.message, /more than 10 header fields/);
  });

  test('a head one byte over maxHeadBytes is HEADERS_TOO_LARGE, whole or byte by byte', () => {
    const base = req('X-Pad: \r\n');
    const text = req(`X-Pad: ${'p'.repeat(1001 - base.length)}\r\n`);
    for (const how of ['whole', 'bytes'] as const) {
      const err = parseRequests(text, how, { maxHeadBytes: 1000 }).error;
      assert.equal(err?.code, 'HEADERS_TOO_LARGE');
      assert.match(err.message, /head larger than 1000 bytes/);
    }
  });

  test('a 100 KB value fails once maxHeadBytes is passed, without waiting for the line end', () => {
    const err = parseRequests(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'B'.repeat(100_000)}`).error;
    assert.equal(err?.code, 'HEADERS_TOO_LARGE');
  });
});

describe('Host (RFC 9112 §3.2)', () => {
  const ok: [title: string, host: string][] = [
    ['a name', 'example.com'],
    ['a name and port', 'example.com:8080'],
    ['an IPv4 address', '10.0.0.1:80'],
    ['an IPv6 literal', '[2001:db8::1]:443'],
    ['pct-encoded bytes', 'caf%C3%A9.example'],
    ['a trailing dot', 'example.com.'],
    ['underscores and tildes', 'my_svc~1'],
  ];
  for (const [title, host] of ok) {
    test(`${title} is a valid Host`, () => {
      const rec = parseRequests(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(rec.error, undefined, JSON.stringify(rec.error));
    });
  }

  const bad: [title: string, fields: string, message: RegExp][] = [
    ['a missing Host in HTTP/1.1', '', /without a Host/],
    ['two identical Host fields', 'Host: a\r\nHost: a\r\n', /more than one Host/],
    ['two different Host fields', 'Host: a\r\nHost: b\r\n', /more than one Host/],
    ['an empty Host', 'Host: \r\n', /empty host/],
    ['a Host with a path', 'Host: a:8080/path\r\n', /invalid port/],
    ['a Host with a path and no port', 'Host: a/path\r\n', /contains a path/],
    ['a Host with userinfo', 'Host: user@a\r\n', /userinfo/],
    ['a Host list', 'Host: a, b\r\n', /invalid character/],
    ['a Host with a comma', 'Host: a,b\r\n', /invalid character/],
    ['an empty port', 'Host: a:\r\n', /invalid port/],
    ['a port over 65535', 'Host: a:65536\r\n', /out of range/],
    ['a six-digit port', 'Host: a:000080\r\n', /invalid port/],
    ['a bad IPv6 literal', 'Host: [zz]\r\n', /IP literal/],
    ['an unclosed IPv6 literal', 'Host: [::1\r\n', /IP literal/],
    ['a bad pct-encoding', 'Host: a%zz\r\n', /invalid character/],
  ];
  for (const [title, fields, message] of bad) {
    test(`${title} is BAD_REQUEST`, () => {
      const err = parseRequests(`GET / HTTP/1.1\r\n${fields}\r\n`).error;
      assert.equal(err?.code, 'BAD_REQUEST');
      assert.match(err.message, message);
    });
  }

  test('an HTTP/1.0 request may omit Host', () => {
    assert.equal(parseRequests('GET / HTTP/1.0\r\n\r\n').heads.length, 1);
  });

  test('an HTTP/1.0 request with two Host fields is still rejected', () => {
    assert.equal(
      parseRequests('GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n').error?.code,
      'BAD_REQUEST',
    );
  });
});
