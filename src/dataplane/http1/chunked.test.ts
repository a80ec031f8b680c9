import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_CHUNK_EXT_LINE } from './chunk-scanner.ts';
import { parseRequests, parseResponses } from './test-helpers.ts';

const chunked = (body: string) =>
  `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;

describe('chunked bodies (RFC 9112 §7.1)', () => {
  const ok: [title: string, body: string, data: string, trailers?: string[]][] = [
    ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 'hello'],
    ['several chunks', '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', 'hello world'],
    ['an uppercase hex size', 'A\r\nhelloworld\r\n0\r\n\r\n', 'helloworld'],
    ['a lowercase hex size', 'a\r\nhelloworld\r\n0\r\n\r\n', 'helloworld'],
    ['a size with leading zeros', '0005\r\nhello\r\n000\r\n\r\n', 'hello'],
    ['an empty body', '0\r\n\r\n', ''],
    ['an extension without value', '5;ext\r\nhello\r\n0\r\n\r\n', 'hello'],
    ['an extension with a token value', '5;ext=value\r\nhello\r\n0;x=y\r\n\r\n', 'hello'],
    ['an extension with a quoted value', '5;ext="a b;c=\\"d\\""\r\nhello\r\n0\r\n\r\n', 'hello'],
    ['several extensions', '5;a;b=1;c="2"\r\nhello\r\n0\r\n\r\n', 'hello'],
    ['data containing CRLF', '4\r\n\r\n\r\n\r\n0\r\n\r\n', '\r\n\r\n'],
    [
      'a trailer field',
      '5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n',
      'hello',
      ['X-Checksum', 'abc'],
    ],
    ['trailer fields with OWS', '0\r\nA: 1 \r\nB:\t2\r\n\r\n', '', ['A', '1', 'B', '2']],
    [
      'an Authorization trailer (never merged into the head)',
      '0\r\nAuthorization: x\r\n\r\n',
      '',
      ['Authorization', 'x'],
    ],
  ];
  for (const [title, body, data, trailers] of ok) {
    test(`${title} is decoded`, () => {
      const rec = parseRequests(chunked(body));
      assert.equal(rec.error, undefined, JSON.stringify(rec.error));
      assert.equal(rec.bodies.join(''), data);
      assert.deepEqual(rec.events.at(-1), { type: 'end', trailers });
    });
  }

  const bad: [title: string, body: string, message: RegExp][] = [
    ['a size with a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', /"x" in the chunk-size/],
    [
      'a size with a plus sign',
      '+5\r\nhello\r\n0\r\n\r\n',
      /"\+" where a hexadecimal chunk-size should be/,
    ],
    ['a negative size', '-1\r\nhello\r\n0\r\n\r\n', /"-" where/],
    ['a size with an underscore', '1_0\r\nhello world!!!!!\r\n0\r\n\r\n', /"_" in the chunk-size/],
    [
      'a leading SP before the size',
      ' 5\r\nhello\r\n0\r\n\r\n',
      /whitespace before the chunk-size/,
    ],
    ['a trailing SP after the size', '5 \r\nhello\r\n0\r\n\r\n', /whitespace after the chunk-size/],
    ['whitespace before ";"', '5 ;a\r\nhello\r\n0\r\n\r\n', /whitespace after the chunk-size/],
    ['an empty size line', '\r\nhello\r\n0\r\n\r\n', /empty chunk-size line/],
    [
      'a size of 17 hex digits',
      'FFFFFFFFFFFFFFFF0\r\nhello\r\n0\r\n\r\n',
      /chunk-size larger than 2\^53-1/,
    ],
    ['a size over 2^53-1', '20000000000000\r\nhello\r\n', /larger than 2\^53-1/],
    ['a bare ";"', '5;\r\nhello\r\n0\r\n\r\n', /without a name/],
    [
      'an extension name with a bad byte',
      '5;bad[=x\r\nhello\r\n0\r\n\r\n',
      /"\[" in a chunk extension/,
    ],
    ['an extension with NUL', '5;\0ext\r\nhello\r\n0\r\n\r\n', /NUL where a chunk extension name/],
    ['an extension with whitespace', '5;a = b\r\nhello\r\n0\r\n\r\n', /SP in a chunk extension/],
    ['an empty extension value', '5;a=\r\nhello\r\n0\r\n\r\n', /CR where a chunk extension value/],
    [
      'an unterminated quoted extension',
      '5;a="b\r\nhello\r\n0\r\n\r\n',
      /CR in a quoted chunk extension/,
    ],
    [
      'bytes after a quoted extension',
      '5;a="b"c\r\nhello\r\n0\r\n\r\n',
      /"c" in a chunk extension/,
    ],
    [
      'a bare CR after the extension',
      '5;a\rX\r\nhello\r\n0\r\n\r\n',
      /CR not followed by LF after the chunk-size/,
    ],
    ['a bare LF after the extension', '5;\nhello\r\n0\r\n\r\n', /LF where a chunk extension name/],
    ['a bare CR after the size', '5\rhello\r\n0\r\n\r\n', /CR not followed by LF/],
    [
      'a bare LF after the size',
      '5\nhello\r\n0\r\n\r\n',
      /bare LF \(without CR\) after the chunk-size/,
    ],
    [
      'data longer than the size',
      '5\r\nhello!!\r\n0\r\n\r\n',
      /chunk data longer than its chunk-size/,
    ],
    ['data without its CRLF', '5\r\nhello0\r\n\r\n', /chunk data longer than its chunk-size/],
    ['a bare LF after data', '5\r\nhello\n0\r\n\r\n', /bare LF \(without CR\) after chunk data/],
    [
      'a CR without LF after data',
      '5\r\nhello\rX0\r\n\r\n',
      /CR not followed by LF after chunk data/,
    ],
    ['"+0" as last chunk (smuggling probe)', '+0\r\n\r\nGET / HTTP/1.1\r\n', /"\+"/],
    ['a bare LF ending the trailer section', '5\r\nhello\r\n0\r\n\n', /bare LF/],
    ['obs-fold in a trailer', '0\r\nA: 1\r\n 2\r\n\r\n', /obs-fold: a trailer field line/],
    ['a trailer without colon', '0\r\nA\r\n\r\n', /trailer field line "A" has no colon/],
    [
      'Content-Length as trailer (RFC 9110 §6.5.1)',
      '0\r\nContent-Length: 50\r\n\r\n',
      /Content-Length is not allowed in a trailer/,
    ],
    [
      'Transfer-Encoding as trailer',
      '0\r\nTransfer-Encoding: chunked\r\n\r\n',
      /Transfer-Encoding is not allowed/,
    ],
    ['Host as trailer', '0\r\nHost: evil\r\n\r\n', /Host is not allowed/],
  ];
  for (const [title, body, message] of bad) {
    test(`${title} is BAD_REQUEST`, () => {
      const err = parseRequests(chunked(body)).error;
      assert.equal(err?.code, 'BAD_REQUEST', JSON.stringify(err));
      assert.match(err.message, message);
    });
  }

  test(`a chunk line with more than ${MAX_CHUNK_EXT_LINE} bytes of extensions is BAD_REQUEST`, () => {
    const err = parseRequests(chunked(`5;ext=${'a'.repeat(65536)}\r\nhello\r\n0\r\n\r\n`)).error;
    assert.match(err?.message ?? '', /chunk extensions longer than 4096 bytes on one line/);
  });

  test('extensions on every chunk of a large body pass (per-chunk signatures)', () => {
    const sig = `;chunk-signature=${'f'.repeat(64)}`;
    const data = 'x'.repeat(1024);
    const body = `${`400${sig}\r\n${data}\r\n`.repeat(200)}0${sig}\r\n\r\n`;
    const rec = parseRequests(chunked(body));
    assert.equal(rec.error, undefined);
    assert.equal(rec.bodies.join('').length, 200 * 1024);
  });

  test('a body that is mostly extensions is BAD_REQUEST (RFC 9112 §7.1.1)', () => {
    const body = `${`1;e=${'a'.repeat(2000)}\r\nx\r\n`.repeat(20)}0\r\n\r\n`;
    assert.match(parseRequests(chunked(body)).error?.message ?? '', /too much of the body/);
  });

  test('more trailer fields than maxHeaders is HEADERS_TOO_LARGE', () => {
    const trailers = Array.from({ length: 5 }, (_, i) => `T${i}: v\r\n`).join('');
    const err = parseRequests(chunked(`0\r\n${trailers}\r\n`), 'whole', { maxHeaders: 4 }).error;
    assert.equal(err?.code, 'HEADERS_TOO_LARGE');
    assert.match(err.message, /more than 4 trailer fields/);
  });

  test('a trailer section over maxHeadBytes is HEADERS_TOO_LARGE', () => {
    const err = parseRequests(chunked(`0\r\nT: ${'v'.repeat(2000)}\r\n\r\n`), 'bytes', {
      maxHeadBytes: 1000,
    }).error;
    assert.equal(err?.code, 'HEADERS_TOO_LARGE');
    assert.match(err.message, /trailer section larger than 1000 bytes/);
  });

  test('a chunk size line split at every byte gives the same body', () => {
    const rec = parseRequests(chunked('0005;a="x;y"\r\nhello\r\n0\r\nT: 1\r\n\r\n'), 'bytes');
    assert.equal(rec.bodies.join(''), 'hello');
    assert.deepEqual(rec.events.at(-1), { type: 'end', trailers: ['T', '1'] });
  });

  test('chunk framing errors in a response are BAD_RESPONSE', () => {
    const rec = parseResponses(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n',
      ['GET'],
    );
    assert.equal(rec.error?.code, 'BAD_RESPONSE');
    assert.equal(rec.error.status, 502);
  });
});
