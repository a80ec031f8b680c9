import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequests } from './test-helpers.ts';

const post = (fields: string, body = '') => `POST / HTTP/1.1\r\nHost: a\r\n${fields}\r\n${body}`;

describe('request framing (RFC 9112 §6)', () => {
  test('no Content-Length and no Transfer-Encoding means no body', () => {
    const rec = parseRequests(post(''));
    assert.deepEqual(rec.heads[0]?.framing, { kind: 'none' });
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'end'],
    );
  });

  test('Content-Length frames the body', () => {
    const rec = parseRequests(post('Content-Length: 5\r\n', 'helloGET'));
    assert.deepEqual(rec.heads[0]?.framing, { kind: 'length', length: 5 });
    assert.deepEqual(rec.bodies, ['hello']);
  });

  test('Content-Length: 0 is an empty body that ends at once', () => {
    const rec = parseRequests(post('Content-Length: 0\r\n'));
    assert.deepEqual(rec.heads[0]?.framing, { kind: 'length', length: 0 });
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'end'],
    );
  });

  test('Content-Length keeps OWS around the value out (SP, HTAB)', () => {
    assert.deepEqual(parseRequests(post('Content-Length:\t 5 \t\r\n', 'hello')).bodies, ['hello']);
  });

  test('Content-Length up to 2^53-1 is accepted', () => {
    const rec = parseRequests(post('Content-Length: 9007199254740991\r\n'));
    assert.deepEqual(rec.heads[0]?.framing, { kind: 'length', length: 9007199254740991 });
  });

  test('a GET with Content-Length has a body (framing does not depend on the method)', () => {
    const rec = parseRequests('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    assert.deepEqual(rec.bodies, ['hello']);
  });

  test('Transfer-Encoding: chunked (any case) frames a chunked body', () => {
    for (const te of ['chunked', 'Chunked', 'CHUNKED']) {
      const rec = parseRequests(post(`Transfer-Encoding: ${te}\r\n`, '5\r\nhello\r\n0\r\n\r\n'));
      assert.deepEqual(rec.heads[0]?.framing, { kind: 'chunked' });
      assert.deepEqual(rec.bodies, ['hello']);
    }
  });

  test('a CONNECT request with Content-Length: 0 is accepted', () => {
    const rec = parseRequests('CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 0\r\n\r\n');
    assert.equal(rec.heads[0]?.method, 'CONNECT');
  });

  const rejected: [title: string, fields: string, code: string, message: RegExp][] = [
    [
      'Content-Length and Transfer-Encoding together',
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n',
      'BAD_REQUEST',
      /Content-Length and Transfer-Encoding together \(request smuggling risk\)/,
    ],
    [
      'Transfer-Encoding and Content-Length together (TE first)',
      'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n',
      'BAD_REQUEST',
      /together/,
    ],
    [
      'Transfer-Encoding with an empty value and Content-Length',
      'Transfer-Encoding: \r\nContent-Length: 5\r\n',
      'BAD_REQUEST',
      /together/,
    ],
    [
      'two Content-Length fields with the same value',
      'Content-Length: 5\r\nContent-Length: 5\r\n',
      'BAD_REQUEST',
      /more than one Content-Length/,
    ],
    [
      'two Content-Length fields with different values',
      'Content-Length: 5\r\nContent-Length: 10\r\n',
      'BAD_REQUEST',
      /more than one Content-Length/,
    ],
    [
      'a Content-Length list of equal values',
      'Content-Length: 5, 5\r\n',
      'BAD_REQUEST',
      /is a list/,
    ],
    ['an empty Content-Length', 'Content-Length: \r\n', 'BAD_REQUEST', /empty Content-Length/],
    ['a signed Content-Length', 'Content-Length: +5\r\n', 'BAD_REQUEST', /not a decimal number/],
    ['a negative Content-Length', 'Content-Length: -1\r\n', 'BAD_REQUEST', /not a decimal number/],
    [
      'a negative zero Content-Length',
      'Content-Length: -0\r\n',
      'BAD_REQUEST',
      /not a decimal number/,
    ],
    ['a hex Content-Length', 'Content-Length: 0x5\r\n', 'BAD_REQUEST', /not a decimal number/],
    [
      'an octal-prefixed Content-Length',
      'Content-Length: 0o5\r\n',
      'BAD_REQUEST',
      /not a decimal number/,
    ],
    [
      'a Content-Length with an inner space',
      'Content-Length: 1 0\r\n',
      'BAD_REQUEST',
      /not a decimal number/,
    ],
    [
      'a Content-Length with an underscore',
      'Content-Length: 1_0\r\n',
      'BAD_REQUEST',
      /not a decimal number/,
    ],
    [
      'a non-numeric Content-Length',
      'Content-Length: abc\r\n',
      'BAD_REQUEST',
      /not a decimal number/,
    ],
    [
      'a Content-Length with leading zeros',
      'Content-Length: 005\r\n',
      'BAD_REQUEST',
      /leading zeros/,
    ],
    ['a Content-Length of 00', 'Content-Length: 00\r\n', 'BAD_REQUEST', /leading zeros/],
    [
      'a Content-Length over 2^53-1',
      'Content-Length: 9007199254740992\r\n',
      'BAD_REQUEST',
      /exceeds 2\^53-1/,
    ],
    [
      'a 20-digit Content-Length',
      'Content-Length: 99999999999999999999\r\n',
      'BAD_REQUEST',
      /exceeds/,
    ],
    [
      'Transfer-Encoding whose final coding is not chunked',
      'Transfer-Encoding: chunked, gzip\r\n',
      'BAD_REQUEST',
      /chunked is not the final coding/,
    ],
    [
      'Transfer-Encoding: gzip alone',
      'Transfer-Encoding: gzip\r\n',
      'BAD_REQUEST',
      /not the final coding/,
    ],
    [
      'Transfer-Encoding: identity',
      'Transfer-Encoding: identity\r\n',
      'BAD_REQUEST',
      /not the final coding/,
    ],
    [
      'Transfer-Encoding: xchunked',
      'Transfer-Encoding: xchunked\r\n',
      'BAD_REQUEST',
      /not the final coding/,
    ],
    [
      'chunked applied twice',
      'Transfer-Encoding: chunked, chunked\r\n',
      'BAD_REQUEST',
      /applies chunked twice/,
    ],
    [
      'chunked twice across two fields',
      'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n',
      'BAD_REQUEST',
      /twice/,
    ],
    [
      'a final coding other than chunked across two fields',
      'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n',
      'BAD_REQUEST',
      /not the final coding/,
    ],
    [
      'a coding before chunked',
      'Transfer-Encoding: gzip, chunked\r\n',
      'NOT_IMPLEMENTED',
      /only chunked is implemented/,
    ],
    [
      'a coding before chunked across two fields',
      'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n',
      'NOT_IMPLEMENTED',
      /only chunked/,
    ],
    [
      'a leading comma in Transfer-Encoding',
      'Transfer-Encoding: , chunked\r\n',
      'BAD_REQUEST',
      /empty element/,
    ],
    [
      'a trailing comma in Transfer-Encoding',
      'Transfer-Encoding: chunked,\r\n',
      'BAD_REQUEST',
      /empty element/,
    ],
    ['an empty Transfer-Encoding', 'Transfer-Encoding: \r\n', 'BAD_REQUEST', /empty element/],
    ['parameters on chunked', 'Transfer-Encoding: chunked;q=1\r\n', 'BAD_REQUEST', /parameters/],
    [
      'a quoted transfer-coding',
      'Transfer-Encoding: "chunked"\r\n',
      'BAD_REQUEST',
      /invalid transfer-coding/,
    ],
  ];
  for (const [title, fields, code, message] of rejected) {
    test(`${title} is ${code}`, () => {
      const err = parseRequests(post(fields)).error;
      assert.equal(err?.code, code, JSON.stringify(err));
      assert.match(err.message, message);
    });
  }

  test('Transfer-Encoding in an HTTP/1.0 request is BAD_REQUEST, with or without Content-Length', () => {
    for (const fields of [
      'Transfer-Encoding: chunked\r\n',
      'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n',
    ]) {
      const err = parseRequests(`POST / HTTP/1.0\r\n${fields}\r\n`).error;
      assert.equal(err?.code, 'BAD_REQUEST');
      assert.match(err.message, /HTTP\/1\.0/);
    }
  });

  test('a CONNECT request with content is BAD_REQUEST', () => {
    for (const fields of ['Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n']) {
      const err = parseRequests(`CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n${fields}\r\n`).error;
      assert.match(err?.message ?? '', /CONNECT request with content/);
    }
  });
});

describe('connection handling', () => {
  const cases: [title: string, version: string, fields: string, keepAlive: boolean][] = [
    ['HTTP/1.1 persists by default', '1.1', '', true],
    ['HTTP/1.1 with Connection: close does not persist', '1.1', 'Connection: close\r\n', false],
    ['"close" is found in a list, in any case', '1.1', 'Connection: Upgrade, CLOSE\r\n', false],
    [
      '"close" in a second Connection field counts',
      '1.1',
      'Connection: x\r\nConnection: close\r\n',
      false,
    ],
    ['HTTP/1.0 does not persist by default', '1.0', '', false],
    ['HTTP/1.0 with Connection: keep-alive persists', '1.0', 'Connection: Keep-Alive\r\n', true],
    [
      'HTTP/1.0 with keep-alive and close does not persist',
      '1.0',
      'Connection: keep-alive, close\r\n',
      false,
    ],
  ];
  for (const [title, version, fields, keepAlive] of cases) {
    test(title, () => {
      const head = parseRequests(`GET / HTTP/${version}\r\nHost: a\r\n${fields}\r\n`).heads[0];
      assert.equal(head?.keepAlive, keepAlive);
    });
  }

  const upgrades: [title: string, version: string, fields: string, upgrade: string | undefined][] =
    [
      [
        'Upgrade counts when Connection lists it',
        '1.1',
        'Connection: Upgrade\r\nUpgrade: websocket\r\n',
        'websocket',
      ],
      [
        'Connection may list upgrade among other options',
        '1.1',
        'Connection: keep-alive, upgrade\r\nUpgrade: h2c\r\n',
        'h2c',
      ],
      [
        'Upgrade fields combine',
        '1.1',
        'Connection: upgrade\r\nUpgrade: a\r\nUpgrade: b\r\n',
        'a, b',
      ],
      [
        'Upgrade without Connection: upgrade does not count (RFC 9110 §7.8)',
        '1.1',
        'Upgrade: websocket\r\n',
        undefined,
      ],
      [
        'Connection: upgrade without Upgrade is no upgrade',
        '1.1',
        'Connection: upgrade\r\n',
        undefined,
      ],
      ['an empty Upgrade is no upgrade', '1.1', 'Connection: upgrade\r\nUpgrade: \r\n', undefined],
      [
        'Upgrade in HTTP/1.0 is ignored (RFC 9110 §7.8)',
        '1.0',
        'Connection: upgrade\r\nUpgrade: websocket\r\n',
        undefined,
      ],
    ];
  for (const [title, version, fields, upgrade] of upgrades) {
    test(title, () => {
      const head = parseRequests(`GET / HTTP/${version}\r\nHost: a\r\n${fields}\r\n`).heads[0];
      assert.equal(head?.upgrade, upgrade);
    });
  }

  const expects: [title: string, version: string, fields: string, expect: string][] = [
    ['no Expect is none', '1.1', '', 'none'],
    ['Expect: 100-continue', '1.1', 'Expect: 100-continue\r\n', '100-continue'],
    ['Expect is case-insensitive', '1.1', 'Expect: 100-Continue\r\n', '100-continue'],
    ['an unknown expectation is other', '1.1', 'Expect: 200-ok\r\n', 'other'],
    [
      '100-continue with another expectation is other',
      '1.1',
      'Expect: 100-continue, foo\r\n',
      'other',
    ],
    [
      'another expectation in a second field is other',
      '1.1',
      'Expect: 100-continue\r\nExpect: x\r\n',
      'other',
    ],
    ['an empty Expect is none', '1.1', 'Expect: \r\n', 'none'],
    [
      '100-continue in HTTP/1.0 is ignored (RFC 9110 §10.1.1)',
      '1.0',
      'Expect: 100-continue\r\n',
      'none',
    ],
  ];
  for (const [title, version, fields, expect] of expects) {
    test(title, () => {
      const head = parseRequests(`GET / HTTP/${version}\r\nHost: a\r\n${fields}\r\n`).heads[0];
      assert.equal(head?.expect, expect);
    });
  }
});
