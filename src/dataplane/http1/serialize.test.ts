import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHUNKED, CLOSE_DELIMITED, lengthFraming, NO_BODY } from './framing.ts';
import {
  encodeChunk,
  LAST_CHUNK,
  lastChunk,
  type ResponseHeadParts,
  requestHead,
  responseHead,
} from './serialize.ts';
import { bytes, parseRequests, parseResponses } from './test-helpers.ts';

describe('serialize', () => {
  test('requestHead writes an HTTP/1.1 request-line, Host first, the fields, framing and the empty line', () => {
    assert.equal(
      requestHead({
        method: 'POST',
        target: '/a?b',
        host: 'h:80',
        fields: 'X-Lane: dev\r\n',
        framing: lengthFraming(3),
      }),
      'POST /a?b HTTP/1.1\r\nhost: h:80\r\nX-Lane: dev\r\ncontent-length: 3\r\n\r\n',
    );
    assert.equal(
      requestHead({
        method: 'GET',
        target: '/ws',
        host: 'h',
        fields: '',
        framing: NO_BODY,
        upgrade: 'websocket',
      }),
      'GET /ws HTTP/1.1\r\nhost: h\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
    );
  });

  const base: ResponseHeadParts = {
    status: 200,
    reason: 'OK',
    fields: 'A: 1\r\n',
    framing: lengthFraming(2),
    keepAlive: true,
    minor: 1,
  };
  const responses: [title: string, parts: Partial<ResponseHeadParts>, head: string][] = [
    [
      'keep-alive to an HTTP/1.1 client needs no Connection field',
      {},
      'HTTP/1.1 200 OK\r\nA: 1\r\ncontent-length: 2\r\n\r\n',
    ],
    [
      'keep-alive to an HTTP/1.0 client says so',
      { minor: 0 },
      'HTTP/1.1 200 OK\r\nA: 1\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n',
    ],
    [
      'a last response says connection: close',
      { keepAlive: false, minor: 0 },
      'HTTP/1.1 200 OK\r\nA: 1\r\ncontent-length: 2\r\nconnection: close\r\n\r\n',
    ],
    [
      'a chunked body says transfer-encoding',
      { framing: CHUNKED },
      'HTTP/1.1 200 OK\r\nA: 1\r\ntransfer-encoding: chunked\r\n\r\n',
    ],
    [
      'a close-delimited body has no framing line',
      { framing: CLOSE_DELIMITED, keepAlive: false },
      'HTTP/1.1 200 OK\r\nA: 1\r\nconnection: close\r\n\r\n',
    ],
    [
      'a 101 names the protocol the connection switches to',
      {
        status: 101,
        reason: 'Switching Protocols',
        fields: '',
        framing: NO_BODY,
        upgrade: 'websocket',
      },
      'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
    ],
  ];
  for (const [title, parts, head] of responses) {
    test(`responseHead: ${title}`, () => {
      assert.equal(responseHead({ ...base, ...parts }), head);
    });
  }

  test('heads written here parse back with the same fields', () => {
    const fields = 'X-Obs: caf\xe9\r\nX-Tab: a\tb\r\n';
    const req = parseRequests(
      Buffer.concat([
        bytes(
          requestHead({
            method: 'POST',
            target: '/x',
            host: 'h:80',
            fields,
            framing: lengthFraming(3),
          }),
        ),
        bytes('abc'),
      ]),
    ).heads[0];
    assert.deepEqual(req?.rawHeaders, [
      'host',
      'h:80',
      'X-Obs',
      'caf\xe9',
      'X-Tab',
      'a\tb',
      'content-length',
      '3',
    ]);
    const res = parseResponses(responseHead({ ...base, framing: lengthFraming(0) }), ['GET'])
      .responseHeads[0];
    assert.equal(res?.status, 200);
  });

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
