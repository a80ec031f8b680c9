import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessLogEntry } from '../../dataplane/telemetry/access-log.ts';
import type { RecentRequest } from './protocol.ts';
import { joinHops, parseEntries, RecentRequests } from './recent-requests.ts';

function hop(
  listener: string,
  time: string,
  durationUs: number,
  traceId: string | undefined,
  extra: Partial<AccessLogEntry> = {},
): AccessLogEntry {
  return {
    time: `2026-01-01T00:00:${time}Z`,
    hop: listener.startsWith('gateway')
      ? 'gateway'
      : listener.includes('inbound')
        ? 'inbound'
        : 'outbound',
    listener,
    method: 'GET',
    authority: 'mocka',
    path: '/',
    tag: 'v2',
    tagSource: 'route',
    service: null,
    lane: null,
    subset: null,
    fallback: [],
    upstream: null,
    status: 200,
    bytesIn: 10,
    bytesOut: 10,
    durationUs,
    error: null,
    attempts: 1,
    ...(traceId !== undefined ? { traceId } : {}),
    ...extra,
  };
}

// As the access log receives them: inner hops end (and are written) first.
const T = 'a'.repeat(32);
const written = [
  hop('sidecar inbound default/mockb-v1', '01.002', 1_000, T),
  hop('sidecar outbound default/mocka-v2', '01.002', 2_000, T),
  hop('sidecar inbound default/mocka-v2', '01.001', 4_000, T),
  hop('gateway istio-system/ingressgateway:80', '01.001', 5_000, T, { authority: 'shop.example' }),
  hop('gateway istio-system/ingressgateway:80', '00.500', 300, undefined, { status: 404 }),
];

describe('joinHops', () => {
  const requests = joinHops(written);

  it('one request per trace id, and one per hop without one, by when they arrived', () => {
    assert.deepEqual(
      requests.map((r) => [r.traceId, r.hops.length, r.status]),
      [
        [null, 1, 404],
        [T, 4, 200],
      ],
    );
  });

  it('hops in the order the request reached them: the outer first within a millisecond', () => {
    assert.deepEqual(
      requests[1]?.hops.map((h) => h.listener),
      [
        'gateway istio-system/ingressgateway:80',
        'sidecar inbound default/mocka-v2',
        'sidecar outbound default/mocka-v2',
        'sidecar inbound default/mockb-v1',
      ],
    );
  });

  it('the request is what its first hop saw: the client’s authority, status and time', () => {
    assert.equal(requests[1]?.authority, 'shop.example');
    assert.equal(requests[1]?.durationUs, 5_000);
  });
});

describe('RecentRequests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-recent-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the latest requests, and one trace on demand', () => {
    const recent = new RecentRequests();
    for (const e of written) recent.add(e);
    assert.equal(recent.recent({ limit: 1 })[0]?.traceId, T);
    assert.equal(recent.recent({ limit: 10 }).length, 2);
    assert.deepEqual(
      recent.recent({ limit: 10, traceId: T }).map((r) => r.hops.length),
      [4],
    );
  });

  it('reads back the end of an access log written before, skipping a cut first line', () => {
    const file = join(dir, 'access.log');
    writeFileSync(file, `t": 1}\n${written.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const recent = new RecentRequests();
    recent.seed(file);
    assert.equal(recent.recent({ limit: 10 }).length, 2);
    const missing = new RecentRequests();
    missing.seed(join(dir, 'none.log'));
    assert.deepEqual(missing.recent({ limit: 10 }), []);
  });

  it('a follower gets each request once its hops have stopped coming, whole', async () => {
    const recent = new RecentRequests();
    const got: RecentRequest[] = [];
    const stop = recent.follow((r) => got.push(r), 100);
    for (const e of written.slice(0, 2)) recent.add(e);
    await sleep(30);
    for (const e of written.slice(2)) recent.add(e);
    assert.deepEqual(
      got.map((r) => r.traceId),
      [null],
      'a hop without a trace id is whole at once',
    );
    await sleep(300);
    stop();
    assert.deepEqual(
      got.map((r) => [r.traceId, r.hops.length]),
      [
        [null, 1],
        [T, 4],
      ],
    );
  });

  it('parseEntries skips what is not an entry', () => {
    assert.equal(parseEntries('{"time":"x","listener":"l"}\nnot json\n{"a":1}\n').length, 1);
  });
});
