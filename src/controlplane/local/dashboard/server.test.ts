/**
 * The dashboard's HTTP side on a real socket (port 0), with a stand-in source: the login trade,
 * what is refused (no session, another Host, writes, files outside the page), the page's files
 * (TypeScript served as JavaScript), the snapshot, and the event stream.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { build, endpoint, service, yaml } from '../../../core/engine/test-fixtures.ts';
import { Dashboard, type DashboardSource } from './server.ts';

const { table } = build(
  yaml(
    service('a'),
    `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec: { routeHeader: x-lane, baseline: base, services: [a] }`,
    `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: base }
spec: { group: g, selector: { v: base } }`,
  ),
  [endpoint('default/a', { v: 'base' })],
);

let version = 1;
const source: DashboardSource = {
  table: () => ({ version, table }),
  gateways: () => [],
  workloads: () => [],
  resources: () => [],
  metrics: () => ({ buckets: [], series: [], droppedSeries: 0 }),
  requests: (limit) =>
    [
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        time: '2026-01-01T00:00:00.000Z',
        method: 'GET',
        authority: 'shop',
        path: '/',
        status: 200,
        durationUs: 1200,
        tag: 'base',
        hops: [],
      },
    ].slice(0, limit),
};

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method, headers, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard over HTTP', () => {
  const dashboard = new Dashboard(source, { tickMs: 50 });
  const server = http.createServer((req, res) => {
    if (!dashboard.handle(req, res, (server.address() as AddressInfo).port)) {
      res.writeHead(404);
      res.end('not the dashboard');
    }
  });
  let port = 0;
  let cookie = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    dashboard.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('without a session nothing is served, and the answer says how to get one', async () => {
    for (const path of ['/dashboard/', '/dashboard/api/snapshot', '/dashboard/static/app.ts']) {
      const got = await get(port, path);
      assert.equal(got.status, 401, path);
      assert.match(got.body, /run `lanes dashboard`/);
    }
  });

  test('the login URL trades its code for a cookie once, and leaves the code behind', async () => {
    const { url } = dashboard.loginUrl(`http://127.0.0.1:${port}`);
    const path = new URL(url).pathname + new URL(url).search;
    const first = await get(port, path);
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/dashboard/');
    const set = first.headers['set-cookie']?.[0] ?? '';
    assert.match(set, /HttpOnly; SameSite=Strict/);
    cookie = set.split(';')[0]!;
    assert.equal((await get(port, path)).status, 403, 'the same code again');
  });

  test('with the cookie: the page, its modules as JavaScript, the snapshot', async () => {
    const page = await get(port, '/dashboard/', { cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/dashboard\/static\/app.ts">/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    const app = await get(port, '/dashboard/static/map-view.ts', { cookie });
    assert.equal(app.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.doesNotMatch(app.body, /: readonly |interface CellRef/, 'types are stripped');
    const snap = JSON.parse((await get(port, '/dashboard/api/snapshot', { cookie })).body);
    assert.equal(snap.version, 1);
    assert.deepEqual(snap.groups[0].rows[0].cells, [{ kind: 'own', healthy: 1, total: 1 }]);
  });

  test('refused: another Host (DNS rebinding), writes, paths outside the page, tests', async () => {
    assert.equal(
      (await get(port, '/dashboard/', { cookie, host: `evil.example:${port}` })).status,
      421,
    );
    assert.equal((await get(port, '/dashboard/api/snapshot', { cookie }, 'POST')).status, 405);
    for (const name of ['..%2Fauth.ts', 'auth.test.ts', 'nope.ts', 'tsconfig.json'])
      assert.equal((await get(port, `/dashboard/static/${name}`, { cookie })).status, 404, name);
    assert.equal((await get(port, '/other', { cookie })).body, 'not the dashboard');
  });

  test('the event stream sends the snapshot at once, and again when it changes', async () => {
    const frames: string[] = [];
    let all = '';
    await new Promise<void>((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port,
          path: '/dashboard/api/events',
          headers: { cookie },
          agent: false,
        },
        (res) => {
          assert.equal(res.headers['content-type'], 'text/event-stream');
          res.on('data', (c: Buffer) => {
            all += c.toString();
            frames.push(
              ...c
                .toString()
                .split('\n\n')
                .filter((f) => f.includes('event: snapshot')),
            );
            if (frames.length === 1) version = 2;
            if (frames.length === 2) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', (e) => (frames.length >= 2 ? resolve() : reject(e)));
    });
    assert.match(frames[0]!, /"version":1/);
    assert.match(frames[1]!, /"version":2/);
    assert.match(all, /event: requests\ndata: \[\{"traceId":"0af7651916cd43dd8448eb211c80319c"/);
    assert.match(all, /event: traffic\ndata: \{"intervalMs":/);
  });
});

describe('the dashboard snapshot', () => {
  test('is stamped with the clock it was given', () => {
    const at = Date.UTC(2026, 4, 1, 12, 0, 0);
    const snapshot = new Dashboard(source, { now: () => at }).snapshot();
    assert.equal(snapshot.generatedAt, '2026-05-01T12:00:00.000Z');
    assert.equal(snapshot.version, version);
  });
});
