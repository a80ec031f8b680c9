/**
 * HTTP/2 clients no one here wrote, through a real gateway: curl with --http2-prior-knowledge and
 * nghttp (Debian's nghttp2-client), to an HTTP/1.1 upstream and to an h2c one. Each test skips,
 * saying why, when its client is not installed.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { endpoint, type Fixture, fixture, listen, table } from './support/proxy-fixture.ts';

const run = promisify(execFile);

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const MESH = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  selector: { app: gw }
  servers: [{ port: { number: 80, name: http2, protocol: HTTP2 }, hosts: ["*"] }]
---
apiVersion: v1
kind: Service
metadata: { name: rpc, namespace: default }
spec: { selector: { app: rpc }, ports: [{ port: 9000, name: h2c }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: vs, namespace: default }
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{ uri: { prefix: /h2 } }]
    route: [{ destination: { host: rpc } }]
  - route: [{ destination: { host: web } }]
`;

describe('curl and nghttp through a gateway', () => {
  let f: Fixture;
  let gw: number;
  const web = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c;
    });
    req.on('end', () => res.end(`h1 ${req.method} ${req.url} ${body}`));
  });
  const rpc = http2.createServer();
  rpc.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200 });
    stream.end(`h2 ${headers[':method']} ${headers[':path']}`);
  });

  before(async () => {
    const webPort = await listen(web);
    const rpcPort = await listen(rpc);
    f = fixture();
    f.store.publish(table(MESH, [endpoint('web', webPort), endpoint('rpc', rpcPort)]));
    gw = await f.gateway();
  });
  after(async () => {
    await f.close();
    web.close();
    web.closeAllConnections();
    rpc.close();
  });

  it('curl --http2-prior-knowledge reaches an HTTP/1.1 upstream and an h2c one', async (t) => {
    if (!has('curl')) return t.skip('curl is not installed');
    const h1 = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '-d',
      'x=1',
      `http://127.0.0.1:${gw}/a`,
    ]);
    assert.equal(h1.stdout, 'h1 POST /a x=1');
    const h2 = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '-w',
      ' %{http_version}',
      `http://127.0.0.1:${gw}/h2/b`,
    ]);
    assert.equal(h2.stdout, 'h2 GET /h2/b 2');
  });

  it('nghttp sends several streams on one connection and gets every answer', async (t) => {
    if (!has('nghttp')) return t.skip('nghttp is not installed (apt-get install nghttp2-client)');
    const urls = ['/h2/1', '/h2/2', '/3', '/4'].map((p) => `http://127.0.0.1:${gw}${p}`);
    const { stdout } = await run('nghttp', ['-n', '-s', ...urls], { timeout: 20_000 });
    // -s prints one line per stream with its status: all four answered 200.
    const statuses = [...stdout.matchAll(/^\s*\d+\s+\S+\s+\S+\s+\S+\s+(\d{3})\s/gm)].map(
      (m) => m[1],
    );
    assert.deepEqual(statuses, ['200', '200', '200', '200'], stdout);
    const lines = f.lines().filter((l) => l.protocol === 'HTTP/2');
    assert.ok(lines.length >= 4, 'each stream is one access-log line');
  });
});
