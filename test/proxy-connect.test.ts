/**
 * CONNECT at a sidecar's outbound side, as apps' HTTP clients send it to their http_proxy: a
 * tunnel to a mesh host is read as HTTP/1.1 or h2c and each request inside is routed, lanes
 * included; other hosts pass through (ALLOW_ANY) or are refused (REGISTRY_ONLY). Node's own
 * fetch() under NODE_USE_ENV_PROXY, in a separate process, is one such client.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { endpoint, type Fixture, fixture, listen, raw, table } from './support/proxy-fixture.ts';

const MESH = (policy: string) => `
apiVersion: lanes.dev/v1alpha1
kind: Mesh
metadata: { name: default }
spec: { outboundTrafficPolicy: { mode: ${policy} } }
---
apiVersion: v1
kind: Service
metadata: { name: app, namespace: default }
spec: { selector: { app: app }, ports: [{ port: 8000, name: http }] }
---
apiVersion: v1
kind: Service
metadata: { name: rpc, namespace: default }
spec: { selector: { app: rpc }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec: { routeHeader: x-lane, services: [app, rpc] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec: { group: shop, selector: { version: v2 } }
`;

/** Opens a CONNECT tunnel through the sidecar and returns the socket once it is established. */
async function tunnel(
  proxy: number,
  authority: string,
): Promise<{ socket: net.Socket; head: string }> {
  const socket = net.connect(proxy, '127.0.0.1');
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const head = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString('latin1');
      if (buf.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(buf);
      }
    };
    socket.on('data', onData);
  });
  return { socket, head };
}

describe('CONNECT at a sidecar outbound side', () => {
  let f: Fixture;
  let out: number;
  let gw: number;
  let outsidePort: number;
  const answer = (name: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.end(`${name} ${req.headers.host} ${req.url} x-lane=${req.headers['x-lane']}`);
  };
  const v1 = http.createServer(answer('v1'));
  const v2 = http.createServer(answer('v2'));
  const outside = http.createServer(answer('outside'));
  const rpc = http2.createServer();
  rpc.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(`rpc ${headers[':authority']} x-lane=${headers['x-lane']}`);
  });

  before(async () => {
    const p1 = await listen(v1);
    const p2 = await listen(v2);
    const pr = await listen(rpc);
    outsidePort = await listen(outside);
    f = fixture();
    f.store.publish(
      table(MESH('ALLOW_ANY'), [
        endpoint('app', p1),
        endpoint('app', p2, { version: 'v2' }),
        endpoint('rpc', pr, { version: 'v2' }),
      ]),
    );
    out = await f.outbound();
    gw = await f.gateway();
  });
  after(async () => {
    await f.close();
    for (const s of [v1, v2, outside, rpc]) s.close();
    v1.closeAllConnections();
    v2.closeAllConnections();
    outside.closeAllConnections();
  });

  it('routes each HTTP/1.1 request inside a tunnel to a mesh host, lane by lane', async () => {
    const { socket, head } = await tunnel(out, 'app:8000');
    assert.match(head, /^HTTP\/1\.1 200 /);
    const text = await new Promise<string>((resolve) => {
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        if ((buf.match(/x-lane=/g) ?? []).length === 2) resolve(buf);
      });
      socket.write('GET /a HTTP/1.1\r\nHost: app:8000\r\nx-lane: v2\r\n\r\n');
      socket.write('GET /b HTTP/1.1\r\nHost: app:8000\r\n\r\n');
    });
    socket.destroy();
    assert.match(text, /v2 app:8000 \/a x-lane=v2/);
    assert.match(text, /v1 app:8000 \/b x-lane=undefined/);
    const inner = f.lines().filter((l) => l.path === '/a' || l.path === '/b');
    assert.deepEqual(
      inner.map((l) => [l.method, l.service, l.lane]),
      [
        ['GET', 'default/app', 'v2'],
        ['GET', 'default/app', '(no lane)'],
      ],
    );
  });

  it('reads h2c inside a tunnel (what gRPC clients send through a proxy)', async () => {
    const { socket } = await tunnel(out, 'rpc:9000');
    const session = http2.connect('http://rpc:9000', { createConnection: () => socket });
    const body = await new Promise<string>((resolve) => {
      const req = session.request({ ':path': '/svc/Method', 'x-lane': 'v2' });
      let data = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => {
        data += c;
      });
      req.on('end', () => resolve(data));
      req.end();
    });
    session.destroy();
    assert.equal(body, 'rpc rpc:9000 x-lane=v2');
  });

  it('passes a tunnel to a host outside the mesh through as raw bytes (ALLOW_ANY)', async () => {
    const { socket, head } = await tunnel(out, `127.0.0.1:${outsidePort}`);
    assert.match(head, /^HTTP\/1\.1 200 /);
    const text = await new Promise<string>((resolve) => {
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        if (buf.includes('outside')) resolve(buf);
      });
      socket.write('GET /raw HTTP/1.1\r\nHost: anything\r\nConnection: close\r\n\r\n');
    });
    socket.destroy();
    assert.match(text, /outside anything \/raw/);
  });

  it('refuses a tunnel outside the mesh under REGISTRY_ONLY, and CONNECT at a gateway', async () => {
    const g = fixture();
    try {
      g.store.publish(table(MESH('REGISTRY_ONLY'), []));
      const sidecar = await g.outbound();
      const res = await raw(
        sidecar,
        `CONNECT 127.0.0.1:${outsidePort} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      assert.match(res.text, /^HTTP\/1\.1 502 /);
      assert.match(res.text, /x-lanes-error: REGISTRY_ONLY/);
    } finally {
      await g.close();
    }
    const res = await raw(gw, 'CONNECT app:8000 HTTP/1.1\r\nHost: app:8000\r\n\r\n');
    assert.match(res.text, /^HTTP\/1\.1 405 /);
    assert.match(res.text, /x-lanes-error: CONNECT_UNSUPPORTED/);
  });

  it("carries Node's fetch() under NODE_USE_ENV_PROXY (it tunnels plain http:// through CONNECT)", async () => {
    const script =
      "const r = await fetch('http://app:8000/fetched', { headers: { 'x-lane': 'v2' } }); console.log(r.status, await r.text());";
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      {
        env: {
          ...process.env,
          NODE_USE_ENV_PROXY: '1',
          http_proxy: `http://127.0.0.1:${out}`,
          HTTP_PROXY: `http://127.0.0.1:${out}`,
          NO_PROXY: '',
        },
        timeout: 20_000,
      },
    );
    assert.equal(stdout.trim(), '200 v2 app:8000 /fetched x-lane=v2');
  });
});
