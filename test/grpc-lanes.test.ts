/**
 * gRPC lanes with clients and servers no one here wrote: @grpc/grpc-js apps in their own
 * processes behind real sidecars, a grpc-js client through a real gateway, and Debian's
 * python3-grpcio through a sidecar via its proxy settings. A lane is entered by metadata at the
 * gateway, kept hop by hop (the front app forwards `x-lane`), falls back where the lane lacks a
 * service, and the four kinds of call are forwarded frame by frame.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../src/controlplane/local/workloads/workloads.ts';
import type { Endpoint } from '../src/core/compiler/table.ts';
import { createSidecar, type Sidecar } from '../src/dataplane/sidecar.ts';
import { type Fixture, fixture, table } from './support/proxy-fixture.ts';

const run = promisify(execFile);
const APP = new URL('./support/grpc-app.ts', import.meta.url).pathname;
const CLIENT = new URL('./support/grpc-client.ts', import.meta.url).pathname;

const MESH = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  selector: { app: gw }
  servers: [{ port: { number: 80, name: grpc, protocol: GRPC }, hosts: ["*"] }]
---
apiVersion: v1
kind: Service
metadata: { name: front, namespace: default }
spec: { selector: { app: front }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: v1
kind: Service
metadata: { name: back, namespace: default }
spec: { selector: { app: back }, ports: [{ port: 9000, name: grpc }] }
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec:
  routeHeader: x-lane
  services: [front, back]
  ingress:
    - gateway: default/gw
      destination: { host: front, port: 9000 }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v2 }
spec:
  group: shop
  selector: { version: v2 }
  entry:
    - name: alice
      match: { header: { name: x-user, exact: alice } }
`;

interface Instance {
  readonly app: string;
  readonly version: string;
  readonly sidecar: Sidecar;
  readonly inbound: number;
  readonly outbound: number;
  readonly process: ChildProcess;
}

describe('gRPC lanes through a gateway and sidecars (grpc-js, python3-grpcio)', () => {
  let f: Fixture;
  let gw: number;
  const instances: Instance[] = [];

  async function start(app: string, version: string, upstream?: string): Promise<Instance> {
    const appPort = await freePort();
    const sidecar = createSidecar({
      workload: {
        namespace: 'default',
        labels: { app, version },
        name: `default/${app}-${version}`,
      },
      app: { host: '127.0.0.1', port: appPort },
      source: f.store,
      accessLog: f.log,
    });
    const [inbound, outbound] = await Promise.all([
      sidecar.inbound.listen(),
      sidecar.outbound.listen(),
    ]);
    const proxy = `http://127.0.0.1:${outbound.port}`;
    const child = spawn(process.execPath, [APP], {
      env: {
        ...process.env,
        PORT: String(appPort),
        NAME: app,
        VERSION: version,
        ...(upstream ? { UPSTREAM: upstream, grpc_proxy: proxy, http_proxy: proxy } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve, reject) => {
      child.stdout!.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`${app} exited with ${code}`)));
    });
    const instance = {
      app,
      version,
      sidecar,
      inbound: inbound.port,
      outbound: outbound.port,
      process: child,
    };
    instances.push(instance);
    return instance;
  }

  function endpoints(healthy: (i: Instance) => boolean = () => true): Endpoint[] {
    return instances.map((i) => ({
      service: `default/${i.app}`,
      cluster: 'default',
      address: '127.0.0.1',
      port: i.inbound,
      labels: { app: i.app, version: i.version },
      healthy: healthy(i),
    }));
  }

  async function call(metadata: Record<string, string>) {
    const { stdout } = await run(process.execPath, [CLIENT], {
      env: { ...process.env, TARGET: `127.0.0.1:${gw}`, METADATA: JSON.stringify(metadata) },
      timeout: 20_000,
    });
    return JSON.parse(stdout) as {
      unary: string;
      serverStream: string[];
      clientStream: string;
      bidi: string[];
    };
  }

  before(async () => {
    f = fixture();
    f.store.publish(table(MESH, []));
    await start('back', 'v1');
    await start('back', 'v2');
    await start('front', 'v1', 'back:9000');
    f.store.publish(table(MESH, endpoints()));
    gw = await f.gateway();
  });
  after(async () => {
    for (const i of instances) i.process.kill();
    await Promise.all(instances.map((i) => i.sidecar.close(200)));
    await f.close();
  });

  it('unary and the three streaming kinds stay on the baseline without a lane', async () => {
    assert.deepEqual(await call({}), {
      unary: 'front(v1):u -> back(v1):u',
      serverStream: ['front(v1):s#0', 'front(v1):s#1', 'front(v1):s#2'],
      clientStream: 'front(v1):a+b+c',
      bidi: ['front(v1):b0', 'front(v1):b1', 'front(v1):b2'],
    });
  });

  it('metadata enters lane v2 at the gateway; front falls back to v1, the next hop returns into v2', async () => {
    const got = await call({ 'x-user': 'alice' });
    assert.equal(got.unary, 'front(v1):u -> back(v2):u');
    const hops = f.lines().filter((l) => l.service === 'default/back' && l.hop === 'outbound');
    assert.equal(hops.at(-1)?.lane, 'v2');
    assert.equal(hops.at(-1)?.protocol, 'HTTP/2', 'the tunnel from grpc-js carries h2c');
  });

  it('falls back to back v1 when back v2 is unhealthy, and answers UNAVAILABLE with x-lanes-error when back has no instance', async () => {
    f.store.publish(
      table(
        MESH,
        endpoints((i) => !(i.app === 'back' && i.version === 'v2')),
      ),
    );
    assert.equal((await call({ 'x-user': 'alice' })).unary, 'front(v1):u -> back(v1):u');
    f.store.publish(
      table(
        MESH,
        endpoints((i) => i.app !== 'back'),
      ),
    );
    assert.equal(
      (await call({ 'x-user': 'alice' })).unary,
      'front(v1):u -> error 14 lanes: LANE_NO_ENDPOINTS: no healthy endpoint of default/back in lane v2, instances in no lane (request tagged v2); service: default/back; lane: v2; tried: v2 (no healthy endpoints), (no lane) (no healthy endpoints); hop: sidecar outbound default/front-v1',
    );
    f.store.publish(table(MESH, endpoints()));
  });

  it("python3-grpcio reaches lane v2 through a sidecar's outbound side by its http_proxy setting", async (t) => {
    // Debian's python3-grpcio lives beside Debian's python3, which a pyenv on PATH may shadow.
    let python: string | undefined;
    for (const candidate of ['/usr/bin/python3', 'python3']) {
      if (
        await run(candidate, ['-c', 'import grpc']).then(
          () => true,
          () => false,
        )
      ) {
        python = candidate;
        break;
      }
    }
    if (!python) {
      t.skip('python3-grpcio is not installed (apt-get install python3-grpcio)');
      return;
    }
    const front = instances.find((i) => i.app === 'front')!;
    const script = [
      'import grpc, json, sys',
      "ch = grpc.insecure_channel('back:9000')",
      "unary = ch.unary_unary('/lanes.test.Echo/Unary', request_serializer=lambda m: json.dumps(m).encode(), response_deserializer=lambda b: json.loads(b))",
      "print(unary({'text': 'py'}, metadata=[('x-lane', 'v2')], timeout=10)['text'])",
    ].join('\n');
    const { stdout } = await run(python, ['-c', script], {
      env: { ...process.env, http_proxy: `http://127.0.0.1:${front.outbound}`, no_proxy: '' },
      timeout: 20_000,
    });
    assert.equal(stdout.trim(), 'back(v2):py');
  });
});
