import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  AccessLog,
  type AccessLogEntry,
  type AccessLogSink,
  fileSink,
  formatAccessLogEntry,
  type HopRecord,
  hopEntry,
  isoTime,
  memorySink,
} from './access-log.ts';

/** A typical entry, keys in the order the formatter writes them. */
function entry(overrides: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    time: '2026-08-22T10:11:12.345Z',
    hop: 'outbound',
    listener: 'outbound',
    method: 'GET',
    authority: 'reviews.default:9080',
    path: '/reviews/1',
    tag: 'dev-alice',
    tagSource: 'baggage',
    service: 'default/reviews',
    lane: 'base',
    subset: null,
    fallback: ['dev-alice:lacks-service'],
    upstream: '10.0.0.7:9080',
    status: 200,
    bytesIn: 120,
    bytesOut: 4521,
    durationUs: 1834,
    error: null,
    attempts: 1,
    ...overrides,
  };
}

const ALL_CONTROL = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('');

describe('formatAccessLogEntry', () => {
  const cases: { title: string; entry: AccessLogEntry }[] = [
    { title: 'a typical entry', entry: entry() },
    {
      title: 'null values and an empty fallback',
      entry: entry({ tag: null, tagSource: 'none', service: null, lane: null, upstream: null }),
    },
    { title: 'quotes and backslashes', entry: entry({ path: '/a"b\\c\\"d', method: '"' }) },
    { title: 'every control character', entry: entry({ path: ALL_CONTROL, authority: '\x7f' }) },
    { title: 'newlines in values stay inside the line', entry: entry({ path: '/a\r\nb\n' }) },
    { title: 'non-ASCII text', entry: entry({ path: '/caf\u00e9/\u4e2d\u6587/\u{1f600}' }) },
    { title: 'a lone high surrogate', entry: entry({ path: '/x\ud800y' }) },
    { title: 'a lone low surrogate', entry: entry({ authority: '\udc00' }) },
    { title: 'surrogates in the wrong order', entry: entry({ path: '\udc00\ud800' }) },
    { title: 'line and paragraph separators', entry: entry({ path: '\u2028\u2029' }) },
    { title: 'several fallback steps', entry: entry({ fallback: ['a:disabled', 'b"c:x', ''] }) },
    { title: 'empty strings', entry: entry({ method: '', path: '', listener: '' }) },
    {
      title: 'the optional fields',
      entry: entry({ event: 'retried after reset', route: 'reviews/0', traceId: 'ab\tc' }),
    },
    { title: 'a status of 0 and large numbers', entry: entry({ status: 0, bytesOut: 2 ** 40 }) },
  ];
  for (const c of cases) {
    test(`${c.title}: is the same text as JSON.stringify and parses back to the entry`, () => {
      const line = formatAccessLogEntry(c.entry);
      assert.equal(line, `${JSON.stringify(c.entry)}\n`);
      assert.deepEqual(JSON.parse(line), c.entry);
      assert.equal(line.indexOf('\n'), line.length - 1);
      assert.ok(line.isWellFormed(), 'no lone surrogates in the output');
    });
  }

  test('optional fields that are undefined are left out', () => {
    const line = formatAccessLogEntry(entry({ event: undefined }));
    assert.equal(line.includes('"event"'), false);
  });

  test('numbers that JSON cannot hold are written as null', () => {
    const parsed = JSON.parse(
      formatAccessLogEntry(
        entry({ durationUs: Number.NaN, bytesIn: Number.POSITIVE_INFINITY, bytesOut: -Infinity }),
      ),
    );
    assert.deepEqual([parsed.durationUs, parsed.bytesIn, parsed.bytesOut], [null, null, null]);
  });

  test('every UTF-16 code unit in a value parses back unchanged, in a well-formed line', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const path = `a${String.fromCharCode(c)}b`;
      const line = formatAccessLogEntry(entry({ path }));
      if (JSON.parse(line).path !== path || !line.isWellFormed()) {
        assert.fail(`U+${c.toString(16)} does not round-trip`);
      }
    }
  });

  test('5,000 random strings parse back unchanged', () => {
    let seed = 1;
    const random = () => {
      seed = (Math.imul(seed, 48_271) + 11) >>> 0;
      return seed / 4_294_967_296;
    };
    for (let i = 0; i < 5000; i++) {
      const units = Array.from({ length: Math.floor(random() * 12) }, () =>
        // Mostly ASCII, with surrogates and control characters mixed in.
        random() < 0.6 ? 0x20 + Math.floor(random() * 95) : Math.floor(random() * 0x10000),
      );
      const path = String.fromCharCode(...units);
      assert.equal(JSON.parse(formatAccessLogEntry(entry({ path }))).path, path);
    }
  });
});

describe('hopEntry', () => {
  const record = {
    hop: 'gateway' as const,
    listener: 'gateway default/gw:80',
    method: 'GET',
    authority: 'shop',
    path: '/a',
    tag: { routeHeader: 'x-lane', lane: 'v2', source: 'route-header' as const, from: 'x-lane' },
    service: 'default/front',
    lane: 'v1',
    subset: null,
    fallback: [{ lane: 'v2', reason: 'lacks-service' as const }],
    startedAt: 1000,
  };
  const outcome = {
    upstream: null,
    status: 503,
    bytesIn: 40,
    bytesOut: 0,
    error: 'X',
    attempts: 0,
  };

  test('the time is when the request arrived, the duration what it took since', () => {
    const before = Date.now();
    const e = hopEntry(record, outcome, 1250);
    const after = Date.now();
    assert.equal(e.durationUs, 250_000);
    const arrived = Date.parse(e.time);
    assert.ok(arrived >= before - 250 && arrived <= after - 250, `${e.time}`);
  });

  test('the tag, its source, the lane and the fallback steps as lane:reason', () => {
    const e = hopEntry(record, outcome, 1001);
    assert.deepEqual(
      [e.tag, e.tagSource, e.lane, e.fallback],
      ['v2', 'route-header', 'v1', ['v2:lacks-service']],
    );
  });

  const overrides: readonly [string, HopRecord['override'], Partial<AccessLogEntry>][] = [
    ['no override: none of its fields', undefined, {}],
    [
      'an override followed here, naming this hop’s service',
      { status: 'followed', pairs: 'default/b=dev-bob', source: 'baggage', applied: true },
      { override: 'default/b=dev-bob', overrideSource: 'baggage', overridden: true },
    ],
    [
      'an override carried through a hop whose service it does not name',
      { status: 'followed', pairs: 'default/b=dev-bob', source: 'header', applied: false },
      { override: 'default/b=dev-bob', overrideSource: 'header' },
    ],
    [
      'an override removed and not followed',
      { status: 'rejected', reason: 'expired', message: 'it expired at …', source: 'header' },
      { overrideSource: 'header', overrideRejected: 'expired' },
    ],
  ];
  for (const [what, override, fields] of overrides) {
    test(what, () => {
      const e = hopEntry(override ? { ...record, override } : record, outcome, 1001);
      const keys = ['override', 'overrideSource', 'overridden', 'overrideRejected'] as const;
      const got = Object.fromEntries(keys.filter((k) => k in e).map((k) => [k, e[k]]));
      assert.deepEqual(got, fields);
    });
  }
});

describe('isoTime', () => {
  const times = [
    0,
    1,
    999,
    1000,
    1_787_400_000_000,
    1_787_400_000_999,
    1_787_400_001_000,
    1_787_400_000_123.9,
    -1,
    -1500.5,
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    Date.UTC(10_000, 0, 1),
    -62_198_755_200_000, // year -1
  ];
  for (const t of times) {
    test(`matches Date#toISOString at ${t}`, () => {
      assert.equal(isoTime(t), new Date(t).toISOString());
    });
  }

  test('matches Date#toISOString for consecutive milliseconds across seconds', () => {
    for (let t = 1_787_400_000_500; t < 1_787_400_003_500; t += 7) {
      assert.equal(isoTime(t), new Date(t).toISOString());
    }
  });
});

/** An AccessLog on a hand-driven clock and timer. */
function harness(opts: { flushBytes?: number; flushMs?: number; maxPendingBytes?: number } = {}) {
  const sink = memorySink();
  const clock = { t: 0 };
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const log = new AccessLog(sink, {
    ...opts,
    now: () => clock.t,
    setTimer: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return () => {
        t.cancelled = true;
      };
    },
  });
  const live = () => timers.filter((t) => !t.cancelled);
  return { sink, clock, timers, live, log };
}

describe('AccessLog', () => {
  test('buffers lines until the buffer reaches flushBytes, then writes one batch', () => {
    const size = formatAccessLogEntry(entry()).length;
    const { sink, log } = harness({ flushBytes: size * 3, flushMs: 1000 });
    log.write(entry());
    log.write(entry());
    assert.equal(sink.batches.length, 0);
    log.write(entry());
    assert.equal(sink.batches.length, 1);
    assert.equal(sink.lines().length, 3);
  });

  test('the first buffered line arms one timer for flushMs; it flushes the batch', () => {
    const { sink, live, log } = harness({ flushMs: 250 });
    log.write(entry());
    log.write(entry());
    assert.deepEqual(
      live().map((t) => t.ms),
      [250],
    );
    live()[0]!.fn();
    assert.deepEqual(
      sink.batches.map((b) => b.split('\n').length - 1),
      [2],
    );
  });

  test('a write flushes itself when the timer is late', () => {
    const { sink, clock, log } = harness({ flushMs: 250 });
    log.write(entry());
    clock.t = 300; // the event loop was too busy to run the timer
    log.write(entry());
    assert.equal(sink.lines().length, 2);
  });

  test('flush writes at once and cancels the timer', () => {
    const { sink, live, log } = harness();
    log.write(entry());
    log.flush();
    assert.equal(sink.lines().length, 1);
    assert.equal(live().length, 0);
  });

  test('flush with nothing buffered writes nothing', () => {
    const { sink, log } = harness();
    log.flush();
    assert.deepEqual(sink.batches, []);
  });

  test('flushBytes 0 writes every line as it comes', () => {
    const { sink, log } = harness({ flushBytes: 0 });
    log.write(entry());
    log.write(entry());
    assert.equal(sink.batches.length, 2);
  });

  test('every line of every batch parses as the entry written', () => {
    const { sink, log } = harness({ flushBytes: 1000 });
    const written = Array.from({ length: 25 }, (_, i) => entry({ path: `/p/${i}\u0001"` }));
    for (const e of written) log.write(e);
    log.flush();
    assert.deepEqual(sink.entries(), written);
  });

  test('close flushes and then drops (and counts) later lines', async () => {
    const { sink, log } = harness();
    log.write(entry());
    await log.close();
    log.write(entry());
    assert.equal(sink.lines().length, 1);
    assert.deepEqual(log.stats(), { written: 1, dropped: 1, flushes: 1, buffered: 0 });
  });

  test('a function works as the sink', () => {
    const got: string[] = [];
    const log = new AccessLog((data) => got.push(data), { flushBytes: 0 });
    log.write(entry());
    assert.deepEqual(
      got.map((d) => JSON.parse(d).path),
      ['/reviews/1'],
    );
  });

  test('a sink that throws loses the batch, counts it, and reports it; write never throws', () => {
    const errors: unknown[] = [];
    const log = new AccessLog(
      () => {
        throw new Error('disk full');
      },
      { flushBytes: 0, onError: (e) => errors.push(e) },
    );
    log.write(entry());
    log.write(entry());
    assert.equal(log.stats().dropped, 2);
    assert.equal(errors.length, 2);
  });

  test('a sink with maxPendingBytes unwritten gets no more batches until it catches up', () => {
    const batches: string[] = [];
    const sink = { pendingBytes: 100, write: (d: string) => batches.push(d) > 0 };
    const log = new AccessLog(sink, { flushBytes: 0, maxPendingBytes: 100 });
    log.write(entry());
    sink.pendingBytes = 99;
    log.write(entry());
    assert.equal(batches.length, 1);
    assert.deepEqual(log.stats(), { written: 1, dropped: 1, flushes: 1, buffered: 0 });
  });

  test('a Node stream is a sink: its writableLength counts as pending', () => {
    const stdout: AccessLogSink = process.stdout; // the type accepts a real stream
    assert.equal(typeof stdout, 'object');
    const batches: string[] = [];
    const stream = { writableLength: 1 << 30, write: (d: string) => batches.push(d) > 0 };
    const log = new AccessLog(stream, { flushBytes: 0 });
    log.write(entry());
    assert.equal(log.stats().dropped, 1);
  });
});

describe('fileSink', () => {
  test('appends lines to the file; close waits until they are written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-access-log-'));
    try {
      const path = join(dir, 'access.log');
      writeFileSync(path, 'earlier\n');
      const log = new AccessLog(fileSink(path), { flushBytes: 200 });
      for (let i = 0; i < 50; i++) log.write(entry({ path: `/p/${i}` }));
      await log.close();
      const lines = readFileSync(path, 'utf8').split('\n');
      assert.equal(lines[0], 'earlier');
      assert.deepEqual(
        lines.slice(1, -1).map((l) => JSON.parse(l).path),
        Array.from({ length: 50 }, (_, i) => `/p/${i}`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with maxBytes the file rotates to .1 and keeps the newest lines, whole and in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-access-log-'));
    try {
      const path = join(dir, 'access.log');
      const log = new AccessLog(fileSink(path, undefined, { maxBytes: 4096 }), { flushBytes: 512 });
      for (let i = 0; i < 100; i++) {
        log.write(entry({ path: `/p/${i}` }));
        // Requests arrive over time; the file opens asynchronously meanwhile.
        if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await log.close();
      const current = readFileSync(path, 'utf8');
      const previous = readFileSync(`${path}.1`, 'utf8');
      assert.ok(current.length < 4096 + 1024, `current file ${current.length} bytes`);
      const paths = [...previous.split('\n'), ...current.split('\n')]
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l).path as string);
      // Older files are gone: what is kept is the newest lines, in order, up to the last one.
      assert.equal(paths.at(-1), '/p/99');
      const first = Number(paths[0]?.slice(3));
      assert.deepEqual(
        paths,
        Array.from({ length: 100 - first }, (_, i) => `/p/${first + i}`),
      );
      assert.ok(first > 0, 'something was rotated away');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('close right after a failed open still resolves', { timeout: 5000 }, async () => {
    const errors: Error[] = [];
    const sink = fileSink(join(tmpdir(), 'lanes-no-such-dir', 'y', 'access.log'), (e) =>
      errors.push(e),
    );
    const log = new AccessLog(sink);
    log.write(entry());
    await log.close();
    assert.equal(errors.length, 1);
  });

  test('a file that cannot be opened is reported once; later batches are dropped', async () => {
    const errors: Error[] = [];
    const sink = fileSink(join(tmpdir(), 'lanes-no-such-dir', 'x', 'access.log'), (e) =>
      errors.push(e),
    );
    const log = new AccessLog(sink, { flushBytes: 0 });
    log.write(entry());
    await new Promise((resolve) => setTimeout(resolve, 50));
    log.write(entry());
    await log.close();
    assert.equal(errors.length, 1);
    assert.equal(log.stats().dropped, 1);
  });
});
