import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodeChunk,
  fieldLines,
  LAST_CHUNK,
  lastChunk,
  requestHead,
  responseHead,
} from './serialize.ts';
import { bytes, parseRequests, parseResponses } from './test-helpers.ts';

describe('serialize', () => {
  test('requestHead writes an HTTP/1.1 request-line, the fields and the empty line', () => {
    assert.equal(
      requestHead('GET', '/a?b', ['Host', 'h', 'X-Lane', 'dev']),
      'GET /a?b HTTP/1.1\r\nHost: h\r\nX-Lane: dev\r\n\r\n',
    );
  });

  test('responseHead writes the status-line with the given minor version', () => {
    assert.equal(
      responseHead(404, 'Not Found', ['A', '1'], 0),
      'HTTP/1.0 404 Not Found\r\nA: 1\r\n\r\n',
    );
    assert.equal(responseHead(204, '', []), 'HTTP/1.1 204 \r\n\r\n');
  });

  test('a serialised head parses back to the same fields', () => {
    const raw = ['Host', 'h:80', 'X-Obs', 'caf\xe9', 'X-Tab', 'a\tb', 'Content-Length', '3'];
    const head = parseRequests(Buffer.concat([bytes(requestHead('POST', '/x', raw)), bytes('abc')]))
      .heads[0];
    assert.deepEqual(head?.rawHeaders, raw);
    const res = parseResponses(responseHead(200, 'OK', ['Content-Length', '0']), ['GET'])
      .responseHeads[0];
    assert.equal(res?.status, 200);
  });

  const injections: [title: string, call: () => unknown][] = [
    ['CR LF in a value (header injection)', () => fieldLines(['X', 'a\r\nInjected: 1'])],
    ['LF in a value', () => fieldLines(['X', 'a\nb'])],
    ['NUL in a value', () => fieldLines(['X', 'a\0b'])],
    ['a non-latin1 character in a value', () => fieldLines(['X', 'snow\u2603'])],
    ['a colon in a name', () => fieldLines(['X:Y', 'v'])],
    ['an empty name', () => fieldLines(['', 'v'])],
    ['an odd number of entries', () => fieldLines(['X'])],
    ['SP in a target', () => requestHead('GET', '/a b', [])],
    ['CR LF in a target', () => requestHead('GET', '/\r\nX: 1', [])],
    ['an empty target', () => requestHead('GET', '', [])],
    ['a method with SP', () => requestHead('GE T', '/', [])],
    ['CR LF in a reason', () => responseHead(200, 'OK\r\nX: 1', [])],
    ['a status out of range', () => responseHead(1000, 'X', [])],
  ];
  for (const [title, call] of injections) {
    test(`${title} throws a TypeError`, () => {
      assert.throws(call, TypeError);
    });
  }

  test('encodeChunk frames data as hex size, data, CRLF', () => {
    const data = Buffer.alloc(255, 1);
    const [size, body, end] = encodeChunk(data);
    assert.equal(size, 'ff\r\n');
    assert.equal(body, data);
    assert.equal(end, '\r\n');
  });

  test('encodeChunk of an empty buffer writes nothing (a 0 chunk would end the body)', () => {
    assert.deepEqual(
      encodeChunk(Buffer.alloc(0)).filter((p) => p.length > 0),
      [],
    );
  });

  test('lastChunk ends the body, with trailers if any', () => {
    assert.equal(LAST_CHUNK, '0\r\n\r\n');
    assert.equal(lastChunk(undefined), LAST_CHUNK);
    assert.equal(lastChunk(['T', '1']), '0\r\nT: 1\r\n\r\n');
  });

  test('chunks written by encodeChunk and lastChunk parse back', () => {
    const parts = [
      bytes('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'),
      ...encodeChunk(bytes('hello ')).map((p) => (typeof p === 'string' ? bytes(p) : p)),
      ...encodeChunk(bytes('world')).map((p) => (typeof p === 'string' ? bytes(p) : p)),
      bytes(lastChunk(['X-Sum', '42'])),
    ];
    const rec = parseRequests(Buffer.concat(parts));
    assert.equal(rec.bodies.join(''), 'hello world');
    assert.deepEqual(rec.events.at(-1), { type: 'end', trailers: ['X-Sum', '42'] });
  });
});
