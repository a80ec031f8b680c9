import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../util/seeded-random.ts';
import { ResponseParser } from './response-parser.ts';
import { bytes, parseResponses, Recorder } from './test-helpers.ts';

describe('status-line', () => {
  const ok: [title: string, line: string, status: number, reason: string, minor: 0 | 1][] = [
    ['a status with reason', 'HTTP/1.1 200 OK', 200, 'OK', 1],
    ['a reason with spaces and obs-text', 'HTTP/1.1 404 Not \xe9 Found', 404, 'Not \xe9 Found', 1],
    ['an empty reason after SP', 'HTTP/1.1 204 ', 204, '', 1],
    ['no SP and no reason (lenient, RFC 9112 §4)', 'HTTP/1.1 204', 204, '', 1],
    ['HTTP/1.0', 'HTTP/1.0 200 OK', 200, 'OK', 0],
    ['status 999', 'HTTP/1.1 999 X', 999, 'X', 1],
  ];
  for (const [title, line, status, reason, minor] of ok) {
    test(`${title} is parsed`, () => {
      for (const how of ['whole', 'bytes'] as const) {
        const rec = parseResponses(`${line}\r\nContent-Length: 0\r\n\r\n`, ['GET'], { how });
        const head = rec.responseHeads[0];
        assert.deepEqual([head?.status, head?.reason, head?.minor], [status, reason, minor]);
      }
    });
  }

  const bad: [title: string, text: string, message: RegExp][] = [
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', /not three digits/],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', /not three digits/],
    ['a status below 100', 'HTTP/1.1 099 X\r\n\r\n', /below 100/],
    ['HTTP/2', 'HTTP/2 200 OK\r\n\r\n', /invalid HTTP-version/],
    ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', /unsupported HTTP\/1\.2/],
    ['a lowercase version', 'http/1.1 200 OK\r\n\r\n', /invalid HTTP-version/],
    ['a bare LF ending the status-line', 'HTTP/1.1 200 OK\nX: 1\r\n\r\n', /bare LF/],
    [
      'a control character in the reason',
      'HTTP/1.1 200 O\x01K\r\n\r\n',
      /control character 0x01 in the reason-phrase/,
    ],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: 1\r\n 2\r\n\r\n', /obs-fold/],
    ['garbage', 'SSH-2.0-OpenSSH\r\n\r\n', /in the HTTP-version/],
  ];
  for (const [title, text, message] of bad) {
    test(`${title} is BAD_RESPONSE`, () => {
      const err = parseResponses(text, ['GET']).error;
      assert.equal(err?.code, 'BAD_RESPONSE', JSON.stringify(err));
      assert.equal(err.status, 502);
      assert.match(err.message, message);
    });
  }

  test('a response head over maxHeadBytes is HEADERS_TOO_LARGE with status 502', () => {
    const err = parseResponses(`HTTP/1.1 200 OK\r\nX: ${'v'.repeat(2000)}\r\n\r\n`, ['GET'], {
      limits: { maxHeadBytes: 1000 },
    }).error;
    assert.equal(err?.code, 'HEADERS_TOO_LARGE');
    assert.equal(err.status, 502);
  });
});

describe('response framing (RFC 9112 §6.3)', () => {
  const cases: [title: string, method: string, text: string, framing: unknown, body: string[]][] = [
    [
      'Content-Length',
      'GET',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
      { kind: 'length', length: 3 },
      ['abc'],
    ],
    [
      'chunked',
      'GET',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      { kind: 'chunked' },
      ['abc'],
    ],
    [
      'HEAD: no body despite Content-Length',
      'HEAD',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n',
      { kind: 'none' },
      [],
    ],
    [
      'HEAD: no body despite chunked',
      'HEAD',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      { kind: 'none' },
      [],
    ],
    ['204: no body', 'GET', 'HTTP/1.1 204 No Content\r\n\r\n', { kind: 'none' }, []],
    [
      '304: no body despite Content-Length',
      'GET',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n',
      { kind: 'none' },
      [],
    ],
    [
      'CONNECT non-2xx: a normal body',
      'CONNECT',
      'HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\nno',
      { kind: 'length', length: 2 },
      ['no'],
    ],
    [
      'Content-Length: 0',
      'POST',
      'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n',
      { kind: 'length', length: 0 },
      [],
    ],
  ];
  for (const [title, method, text, framing, body] of cases) {
    test(`${title}`, () => {
      const rec = parseResponses(text, [method]);
      assert.deepEqual(rec.responseHeads[0]?.framing, framing);
      assert.deepEqual(rec.bodies, body);
      assert.deepEqual(rec.events.at(-1), { type: 'end', trailers: undefined });
    });
  }

  test('neither Content-Length nor chunked: the body runs until finish()', () => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec);
    parser.expect('GET');
    parser.execute(bytes('HTTP/1.1 200 OK\r\n\r\nabc'));
    parser.execute(bytes('def'));
    const head = rec.responseHeads[0];
    assert.deepEqual(head?.framing, { kind: 'close' });
    assert.equal(head?.keepAlive, false);
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'body'],
    );
    parser.finish();
    assert.deepEqual(rec.bodies, ['abcdef']);
    assert.deepEqual(rec.events.at(-1), { type: 'end', trailers: undefined });
    parser.execute(bytes('ignored'));
    parser.finish();
    assert.equal(rec.events.length, 3);
  });

  test('finish() while paused ends the body after the kept bytes', () => {
    const rec = new Recorder();
    const parser: ResponseParser = new ResponseParser({
      ...rec,
      onInformational: () => {},
      onHead: (h) => {
        rec.onHead(h);
        parser.pause();
      },
      onBody: (b) => rec.onBody(b),
      onEnd: (t) => rec.onEnd(t),
      onError: (e) => rec.onError(e),
    });
    parser.expect('GET');
    parser.execute(bytes('HTTP/1.0 200 OK\r\n\r\nabc'));
    parser.finish();
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head'],
    );
    parser.resume();
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'body', 'end'],
    );
  });

  const truncated: [title: string, text: string, message: RegExp][] = [
    [
      'a truncated Content-Length body',
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello',
      /closed after 5 of 10 body bytes/,
    ],
    [
      'a truncated chunked body',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',
      /in the middle of a chunked body/,
    ],
    [
      'a chunked body without last chunk',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
      /chunked body/,
    ],
    ['a truncated head', 'HTTP/1.1 200 OK\r\nContent-Le', /in the middle of a head/],
  ];
  for (const [title, text, message] of truncated) {
    test(`${title} is BAD_RESPONSE at finish()`, () => {
      const rec = parseResponses(text, ['GET'], { finish: true });
      assert.equal(rec.error?.code, 'BAD_RESPONSE');
      assert.match(rec.error.message, message);
    });
  }

  test('finish() between responses reports nothing', () => {
    const rec = parseResponses('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx', ['GET', 'GET'], {
      finish: true,
    });
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'body', 'end'],
    );
  });

  const rejected: [title: string, fields: string, message: RegExp][] = [
    [
      'Content-Length and Transfer-Encoding together',
      'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n',
      /together/,
    ],
    [
      'two Content-Length fields',
      'Content-Length: 3\r\nContent-Length: 3\r\n',
      /more than one Content-Length/,
    ],
    ['an invalid Content-Length', 'Content-Length: 3a\r\n', /not a decimal number/],
    [
      'an invalid Content-Length on a HEAD-like 304',
      'Content-Length: -1\r\n',
      /not a decimal number/,
    ],
    ['a transfer-coding other than chunked', 'Transfer-Encoding: gzip\r\n', /not the final coding/],
    ['gzip before chunked', 'Transfer-Encoding: gzip, chunked\r\n', /only chunked is implemented/],
  ];
  for (const [title, fields, message] of rejected) {
    test(`${title} is BAD_RESPONSE`, () => {
      const err = parseResponses(`HTTP/1.1 200 OK\r\n${fields}\r\nabc`, ['GET']).error;
      assert.equal(err?.code, 'BAD_RESPONSE');
      assert.match(err.message, message);
    });
  }

  test('Transfer-Encoding in an HTTP/1.0 response is BAD_RESPONSE', () => {
    const err = parseResponses('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', [
      'GET',
    ]).error;
    assert.match(err?.message ?? '', /HTTP\/1\.0 response/);
  });
});

describe('keep-alive', () => {
  const cases: [title: string, text: string, keepAlive: boolean][] = [
    ['HTTP/1.1 persists', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', true],
    [
      'HTTP/1.1 with Connection: close does not',
      'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      false,
    ],
    ['HTTP/1.0 does not', 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', false],
    [
      'HTTP/1.0 with keep-alive does',
      'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n',
      true,
    ],
    ['a close-delimited body does not', 'HTTP/1.1 200 OK\r\n\r\n', false],
  ];
  for (const [title, text, keepAlive] of cases) {
    test(title, () => {
      assert.equal(parseResponses(text, ['GET']).responseHeads[0]?.keepAlive, keepAlive);
    });
  }
});

describe('informational responses, upgrades and tunnels', () => {
  test('1xx responses come before the final one (100, 102, 103)', () => {
    const rec = parseResponses(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
      ['POST'],
    );
    assert.deepEqual(
      rec.events.map((e) => (e.type === 'info' ? e.status : e.type)),
      [100, 102, 103, 'head', 'body', 'end'],
    );
    assert.deepEqual(rec.events[2], { type: 'info', status: 103, rawHeaders: ['Link', '</a>'] });
  });

  test('too many 1xx responses are BAD_RESPONSE', () => {
    const rec = parseResponses('HTTP/1.1 100 Continue\r\n\r\n'.repeat(40), ['GET']);
    assert.match(rec.error?.message ?? '', /more than 32 1xx responses/);
  });

  test('101: onHead without onEnd; the bytes after it are the tunnel', () => {
    const rec = new Recorder();
    const parser = new ResponseParser(rec);
    parser.expect('GET');
    parser.execute(
      bytes(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello',
      ),
    );
    parser.execute(bytes('\x81\x01!'));
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head'],
    );
    assert.deepEqual(rec.responseHeads[0]?.framing, { kind: 'none' });
    assert.equal(rec.responseHeads[0]?.keepAlive, false);
    assert.equal(parser.takeRemainder()?.toString('latin1'), '\x81\x05hello\x81\x01!');
    parser.finish();
    assert.equal(rec.events.length, 1);
  });

  test('takeRemainder inside onHead of a 101 gets the rest of the same chunk', () => {
    let rest: Buffer | undefined;
    const parser: ResponseParser = new ResponseParser({
      onInformational: () => {},
      onHead: () => {
        rest = parser.takeRemainder();
      },
      onBody: () => assert.fail('no body'),
      onEnd: () => assert.fail('no end'),
      onError: (e) => assert.fail(e.message),
    });
    parser.expect('GET');
    parser.execute(bytes('HTTP/1.1 101 Switching Protocols\r\n\r\nDATA'));
    assert.equal(rest?.toString(), 'DATA');
  });

  test('2xx to CONNECT is a tunnel: no body even with Content-Length', () => {
    const rec = parseResponses(
      'HTTP/1.1 200 Connection Established\r\nContent-Length: 10\r\n\r\n\x16\x03',
      ['CONNECT'],
    );
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head'],
    );
    assert.deepEqual(rec.responseHeads[0]?.framing, { kind: 'none' });
  });

  test('101 in an HTTP/1.0 response is BAD_RESPONSE', () => {
    assert.match(parseResponses('HTTP/1.0 101 X\r\n\r\n', ['GET']).error?.message ?? '', /101/);
  });
});

describe('request order and stray bytes', () => {
  test('pipelined responses follow the expected methods in order', () => {
    const rec = parseResponses(
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
      ['GET', 'HEAD', 'DELETE'],
    );
    assert.equal(rec.error, undefined);
    assert.deepEqual(
      rec.responseHeads.map((h) => h.framing.kind),
      ['length', 'none', 'none'],
    );
  });

  test('bytes with no request outstanding are BAD_RESPONSE', () => {
    const rec = parseResponses(
      'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
      ['GET'],
    );
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'end', 'error'],
    );
    assert.match(rec.error?.message ?? '', /no request was outstanding/);
  });

  test('up to two empty lines after a body are tolerated', () => {
    const rec = parseResponses(
      'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      ['GET', 'GET'],
    );
    assert.equal(rec.error, undefined);
    assert.equal(rec.responseHeads.length, 2);
  });

  test('idle is true inside onEnd when nothing follows, false when bytes follow', () => {
    const seen: boolean[] = [];
    const parser: ResponseParser = new ResponseParser({
      onInformational: () => {},
      onHead: () => {},
      onBody: () => {},
      onEnd: () => seen.push(parser.idle),
      onError: (e) => assert.fail(e.message),
    });
    parser.expect('GET');
    parser.expect('GET');
    parser.execute(
      bytes(
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ny',
      ),
    );
    assert.deepEqual(seen, [false, true]);
  });

  test('events do not depend on how a response stream is cut', () => {
    const text =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\nHTTP/1.1 200 OK\r\n\r\nrest';
    const whole = parseResponses(text, ['POST', 'GET', 'GET'], { finish: true }).events;
    assert.deepEqual(
      parseResponses(text, ['POST', 'GET', 'GET'], { finish: true, how: 'bytes' }).events,
      whole,
    );
    const random = seededRandom(7);
    for (let k = 0; k < 50; k++) {
      assert.deepEqual(
        parseResponses(text, ['POST', 'GET', 'GET'], { finish: true, how: random }).events,
        whole,
      );
    }
  });
});

describe('differential: response streams', () => {
  const SEEDS = [
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a="b"\r\nabc\r\n0\r\nT: 1\r\n\r\n',
    'HTTP/1.1 204\r\nX: y\r\n\r\n',
  ];
  const NOISE = ['\r', '\n', ' ', '\t', ':', '\0', '\x80', '0', ';', '"', '1', 'A'];

  test('1000 random mutations give the same events whole and byte by byte, and never throw', () => {
    const random = seededRandom(99);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    for (let k = 0; k < 1000; k++) {
      let text = pick(SEEDS);
      for (let m = 1 + Math.floor(random() * 3); m > 0; m--) {
        const at = Math.floor(random() * text.length);
        const op = random();
        if (op < 0.4) text = text.slice(0, at) + pick(NOISE) + text.slice(at + 1);
        else if (op < 0.7) text = text.slice(0, at) + pick(NOISE) + text.slice(at);
        else text = text.slice(0, at) + text.slice(at + 1);
      }
      const methods = [pick(['GET', 'HEAD', 'POST']), 'GET'];
      const whole = parseResponses(text, methods, { finish: true }).events;
      const split = parseResponses(text, methods, { finish: true, how: 'bytes' }).events;
      assert.deepEqual(split, whole, JSON.stringify(text));
    }
  });
});
