import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../util/seeded-random.ts';
import { RequestParser } from './request-parser.ts';
import { bytes, parseRequests, Recorder } from './test-helpers.ts';

const GET = 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n';
const POST = 'POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello';
const CHUNKED =
  'PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n';

/** Streams whose events must not depend on how the input is cut. */
const STREAMS: [title: string, input: string][] = [
  ['three pipelined requests', GET + POST + CHUNKED],
  [
    'leading empty lines and long fields',
    `\r\n\r\n${GET.replace('Host: a', `Host: a\r\nX-Long: ${'v'.repeat(3000)}`)}`,
  ],
  [
    'an absolute-form request with many fields',
    `GET http://h/x HTTP/1.1\r\nHost: h\r\n${'X: 1\r\n'.repeat(50)}\r\n`,
  ],
  ['an HTTP/1.0 request without fields', 'GET / HTTP/1.0\r\n\r\n'],
  ['a chunked body with trailers and extensions', CHUNKED + CHUNKED],
  ['an error after a valid request (bare LF)', `${GET}GET / HTTP/1.1\nHost: a\r\n\r\n`],
  [
    'an error in chunk framing after data',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!!\r\n',
  ],
  [
    'a CL+TE smuggling attempt',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n'],
  ['a target over the limit', `GET /${'a'.repeat(9000)} HTTP/1.1\r\n\r\n`],
  [
    'a head over the limit',
    `GET / HTTP/1.1\r\n${'X-Pad: vvvvvvvvvvvvvvvvvvvv\r\n'.repeat(700)}\r\n`,
  ],
  ['a bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n'],
  ['bad chunk sizes', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n'],
  ['a truncated body', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello'],
];

describe('the same events for any split of the input', () => {
  for (const [title, input] of STREAMS) {
    test(`${title}: whole, byte by byte and 50 random splits agree`, () => {
      const whole = parseRequests(input).events;
      assert.ok(whole.length > 0);
      assert.deepEqual(parseRequests(input, 'bytes').events, whole);
      const random = seededRandom(title.length);
      for (let k = 0; k < 50; k++) assert.deepEqual(parseRequests(input, random).events, whole);
    });
  }
});

describe('pipelining, pause and resume', () => {
  test('pipelined requests in one chunk are parsed in order', () => {
    const rec = parseRequests(GET + POST + CHUNKED);
    assert.deepEqual(
      rec.heads.map((h) => h.method),
      ['GET', 'POST', 'PUT'],
    );
    assert.deepEqual(rec.bodies, ['hello', 'hello']);
  });

  test('pause() in onEnd stops before the next request; resume() continues with kept bytes', () => {
    const rec = new Recorder();
    const parser = new RequestParser({
      onHead: (h) => rec.onHead(h),
      onBody: (b) => rec.onBody(b),
      onEnd: (t) => {
        rec.onEnd(t);
        parser.pause();
      },
      onError: (e) => rec.onError(e),
    });
    parser.execute(bytes(GET + POST + CHUNKED));
    assert.equal(rec.heads.length, 1);
    assert.equal(parser.bufferedBytes, POST.length + CHUNKED.length);
    assert.equal(parser.idle, false);
    parser.resume();
    assert.equal(rec.heads.length, 2);
    assert.equal(parser.bufferedBytes, CHUNKED.length);
    parser.execute(bytes(GET)); // arrives while paused: queued behind the kept bytes
    assert.equal(rec.heads.length, 2);
    parser.resume();
    parser.resume();
    assert.deepEqual(
      rec.heads.map((h) => h.method),
      ['GET', 'POST', 'PUT', 'GET'],
    );
    assert.equal(parser.bufferedBytes, 0);
    assert.equal(parser.idle, true, 'paused after the last onEnd, with nothing waiting');
  });

  test('pause() in onHead holds the body until resume()', () => {
    const rec = new Recorder();
    const parser = new RequestParser({
      onHead: (h) => {
        rec.onHead(h);
        parser.pause();
      },
      onBody: (b) => rec.onBody(b),
      onEnd: (t) => rec.onEnd(t),
      onError: (e) => rec.onError(e),
    });
    parser.execute(bytes(POST));
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head'],
    );
    assert.equal(parser.bufferedBytes, 5);
    parser.resume();
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'body', 'end'],
    );
  });

  test('onEnd of a body-less request waits for resume() when paused in onHead', () => {
    const rec = new Recorder();
    const parser = new RequestParser({
      onHead: (h) => {
        rec.onHead(h);
        parser.pause();
      },
      onBody: (b) => rec.onBody(b),
      onEnd: (t) => rec.onEnd(t),
      onError: (e) => rec.onError(e),
    });
    parser.execute(bytes(GET));
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head'],
    );
    assert.equal(parser.idle, false);
    parser.resume();
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'end'],
    );
    assert.equal(parser.idle, true);
  });

  test('pause() in onBody stops mid-body; the rest follows on resume()', () => {
    const seen: string[] = [];
    const parser = new RequestParser({
      onHead: () => seen.push('head'),
      onBody: (b) => {
        seen.push(b.toString());
        parser.pause();
      },
      onEnd: () => seen.push('end'),
      onError: (e) => seen.push(e.message),
    });
    parser.execute(bytes(POST.slice(0, -2)));
    parser.execute(bytes(POST.slice(-2) + GET));
    assert.deepEqual(seen, ['head', 'hel']);
    parser.resume();
    assert.deepEqual(seen, ['head', 'hel', 'lo']);
    parser.resume();
    assert.deepEqual(seen, ['head', 'hel', 'lo', 'end', 'head', 'end']);
  });

  test('execute() from inside a callback queues behind the bytes being parsed', () => {
    const methods: string[] = [];
    let fed = false;
    const parser: RequestParser = new RequestParser({
      onHead: (h) => {
        methods.push(h.method);
        if (!fed) {
          fed = true;
          parser.execute(bytes(CHUNKED));
        }
      },
      onBody: () => {},
      onEnd: () => {},
      onError: (e) => assert.fail(e.message),
    });
    parser.execute(bytes(GET + POST));
    assert.deepEqual(methods, ['GET', 'POST', 'PUT']);
  });

  test('an exception from a callback propagates and the parser can go on', () => {
    let throwIt = true;
    const methods: string[] = [];
    const parser = new RequestParser({
      onHead: (h) => {
        methods.push(h.method);
        if (throwIt) {
          throwIt = false;
          throw new Error('boom');
        }
      },
      onBody: () => {},
      onEnd: () => {},
      onError: (e) => assert.fail(e.message),
    });
    assert.throws(() => parser.execute(bytes(GET + POST)), /boom/);
    assert.equal(parser.bufferedBytes, POST.length);
    parser.execute(bytes(GET));
    assert.deepEqual(methods, ['GET', 'POST', 'GET']);
  });
});

describe('idle, bufferedBytes and errors', () => {
  test('idle is true only between messages', () => {
    const parser = new RequestParser(new Recorder());
    assert.equal(parser.idle, true);
    parser.execute(bytes('\r\n'));
    assert.equal(parser.idle, true, 'a skipped empty line is not a message');
    parser.execute(bytes('GET / HTTP/1.1\r\nHo'));
    assert.equal(parser.idle, false);
    assert.equal(parser.bufferedBytes, 18);
    parser.execute(bytes('st: a\r\nContent-Length: 3\r\n\r\nab'));
    assert.equal(parser.idle, false);
    assert.equal(parser.bufferedBytes, 0);
    parser.execute(bytes('c'));
    assert.equal(parser.idle, true);
  });

  test('after onError the parser is dead: no more events, no kept bytes', () => {
    const rec = parseRequests('GET / HTTP/1.1\r\nHost: a\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['error'],
    );
    const parser = new RequestParser(rec);
    parser.execute(bytes('BAD\r\n'));
    parser.execute(bytes(GET));
    assert.equal(rec.events.length, 2);
    assert.equal(parser.bufferedBytes, 0);
    assert.equal(parser.takeRemainder(), undefined);
  });

  test('ParseError carries code, status and a specific message', () => {
    const err = parseRequests(
      POST.replace('Content-Length: 5', 'Content-Length: 5\r\nTransfer-Encoding: chunked'),
    ).error;
    assert.deepEqual(err, {
      type: 'error',
      code: 'BAD_REQUEST',
      status: 400,
      message: 'Content-Length and Transfer-Encoding together (request smuggling risk)',
    });
  });
});

describe('upgrade, CONNECT and takeRemainder', () => {
  const UPGRADE =
    'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
  const FRAMES = '\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58';

  test('after an upgrade request the caller pauses; takeRemainder returns the tunnel bytes', () => {
    const rec = new Recorder();
    const parser = new RequestParser({
      onHead: (h) => rec.onHead(h),
      onBody: (b) => rec.onBody(b),
      onEnd: (t) => {
        rec.onEnd(t);
        parser.pause();
      },
      onError: (e) => rec.onError(e),
    });
    parser.execute(bytes(UPGRADE + FRAMES));
    assert.equal(rec.heads[0]?.upgrade, 'websocket');
    parser.execute(bytes('more'));
    assert.equal(parser.takeRemainder()?.toString('latin1'), `${FRAMES}more`);
    parser.execute(bytes('later'));
    parser.resume();
    assert.equal(parser.takeRemainder()?.toString('latin1'), 'later');
    assert.equal(rec.events.length, 2, 'nothing after the remainder is parsed as HTTP');
  });

  test('takeRemainder inside onHead of a CONNECT includes the rest of the chunk', () => {
    let rest: Buffer | undefined;
    const parser: RequestParser = new RequestParser({
      onHead: () => {
        rest = parser.takeRemainder();
      },
      onBody: () => assert.fail('no body'),
      onEnd: () => assert.fail('detached: no onEnd'),
      onError: (e) => assert.fail(e.message),
    });
    parser.execute(bytes(`CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n\x16\x03\x01`));
    assert.equal(rest?.toString('latin1'), '\x16\x03\x01');
  });

  test('a declined upgrade: resume() parses the next request as HTTP', () => {
    const rec = new Recorder();
    const parser = new RequestParser({
      onHead: (h) => rec.onHead(h),
      onBody: (b) => rec.onBody(b),
      onEnd: (t) => {
        rec.onEnd(t);
        parser.pause();
      },
      onError: (e) => rec.onError(e),
    });
    parser.execute(bytes(UPGRADE + GET));
    parser.resume();
    assert.deepEqual(
      rec.heads.map((h) => h.target),
      ['/ws', '/a'],
    );
  });

  test('takeRemainder returns an unfinished head too', () => {
    const parser = new RequestParser(new Recorder());
    parser.execute(bytes('GET / HT'));
    assert.equal(parser.takeRemainder()?.toString(), 'GET / HT');
  });
});

describe('100-continue', () => {
  test('the head arrives before the body, so the proxy can answer 100 first', () => {
    const rec = new Recorder();
    const parser = new RequestParser(rec);
    parser.execute(
      bytes('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'),
    );
    assert.equal(rec.heads[0]?.expect, '100-continue');
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head'],
    );
    parser.execute(bytes('hello'));
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['head', 'body', 'end'],
    );
  });
});

describe('streaming large bodies', () => {
  const GiB = 1024 ** 3;
  const READ = 64 * 1024;

  test('a 1 GiB Content-Length body streams as zero-copy slices without growing the parser', () => {
    let received = 0;
    let views = 0;
    let ended = false;
    let input: Buffer = Buffer.alloc(0);
    const parser = new RequestParser({
      onHead: () => {},
      onBody: (b) => {
        received += b.length;
        if (b.buffer === input.buffer) views++;
      },
      onEnd: () => {
        ended = true;
      },
      onError: (e) => assert.fail(e.message),
    });
    parser.execute(bytes(`PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: ${GiB}\r\n\r\n`));
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let sent = 0; sent < GiB; sent += READ) {
      input = Buffer.allocUnsafeSlow(READ);
      parser.execute(input);
      assert.equal(parser.bufferedBytes, 0);
      if ((sent & 0xfffffff) === 0)
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    assert.equal(received, GiB);
    assert.equal(views, GiB / READ, 'every slice is a view of its input');
    assert.ok(ended);
    assert.ok(peak < 256 * 1024 * 1024, `array buffers grew by ${peak} bytes`);
  });

  test('a 1 GiB chunked body with chunk lines cut across reads streams without growing the parser', () => {
    const CHUNK = 8000; // not a divisor of READ: size lines and CRLFs straddle reads
    const data = Buffer.alloc(CHUNK, 0x61);
    const unit = Buffer.concat([bytes(`${CHUNK.toString(16)};sig=abc\r\n`), data, bytes('\r\n')]);
    const wire = Buffer.concat(
      Array.from({ length: Math.ceil((4 * READ) / unit.length) + 1 }, () => unit),
    );
    const units = Math.floor(GiB / CHUNK);
    let received = 0;
    let ended = false;
    const parser = new RequestParser({
      onHead: () => {},
      onBody: (b) => {
        received += b.length;
      },
      onEnd: () => {
        ended = true;
      },
      onError: (e) => assert.fail(e.message),
    });
    parser.execute(bytes('PUT /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'));
    // Feed `units` chunk units as a byte stream of READ-sized pieces taken cyclically from wire.
    let remaining = units * unit.length;
    let offset = 0;
    while (remaining > 0) {
      const n = Math.min(READ, remaining, wire.length - offset);
      parser.execute(wire.subarray(offset, offset + n));
      assert.ok(parser.bufferedBytes <= 64, `buffered ${parser.bufferedBytes}`);
      remaining -= n;
      offset = (offset + n) % unit.length;
    }
    parser.execute(bytes('0\r\n\r\n'));
    assert.equal(received, units * CHUNK);
    assert.ok(ended);
  });
});

describe('differential: the straight-line scan and the resumable scan agree', () => {
  const SEEDS = [
    GET,
    POST,
    CHUNKED,
    'GET http://h:8000/a?b=c\\d HTTP/1.0\r\nHost: h:8000\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n',
    'OPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
  ];
  const NOISE = [
    '\r',
    '\n',
    ' ',
    '\t',
    ':',
    '\0',
    '\x80',
    '0',
    ';',
    '"',
    '#',
    '?',
    '\\',
    ',',
    'A',
    '\x7f',
  ];

  test('2000 random mutations of valid requests give the same events whole and byte by byte', () => {
    const random = seededRandom(2024);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    let rejected = 0;
    for (let k = 0; k < 2000; k++) {
      let text = pick(SEEDS);
      for (let m = 1 + Math.floor(random() * 3); m > 0; m--) {
        const at = Math.floor(random() * text.length);
        const op = random();
        if (op < 0.4) text = text.slice(0, at) + pick(NOISE) + text.slice(at + 1);
        else if (op < 0.7) text = text.slice(0, at) + pick(NOISE) + text.slice(at);
        else text = text.slice(0, at) + text.slice(at + 1);
      }
      const whole = parseRequests(text).events;
      assert.deepEqual(parseRequests(text, 'bytes').events, whole, JSON.stringify(text));
      if (whole.some((e) => e.type === 'error')) rejected++;
    }
    assert.ok(rejected > 500, `only ${rejected} mutations were rejected`);
  });
});
