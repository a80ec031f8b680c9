/**
 * A small mesh for proxy tests: resources from YAML, upstream servers on port 0, a config store,
 * and gateway / sidecar proxies on port 0 — everything on 127.0.0.1 and closed after the test.
 */
import http from 'node:http';
import net from 'node:net';
import { loadResources } from '../../src/config/load/resources.ts';
import { formatIssue } from '../../src/config/source/issues.ts';
import { compile } from '../../src/core/compiler/compile.ts';
import type { Endpoint, RoutingTable } from '../../src/core/compiler/table.ts';
import type { Workload } from '../../src/core/engine/types.ts';
import { ConfigStore } from '../../src/dataplane/config.ts';
import { createProxy, type ProxyLimits, type ProxyServer } from '../../src/dataplane/proxy.ts';
import {
  type AccessLog,
  AccessLog as AccessLogClass,
  memorySink,
} from '../../src/dataplane/telemetry/access-log.ts';

export const GATEWAY_YAML = (routes: string) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  selector: { app: gw }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: vs, namespace: default }
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
${routes}
`;

export function table(yaml: string, endpoints: readonly Endpoint[]): RoutingTable {
  const loaded = loadResources([{ file: 'test.yaml', text: yaml }]);
  if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
  return compile(loaded.resources, endpoints).table;
}

export function endpoint(
  service: string,
  port: number,
  labels: Record<string, string> = {},
  healthy = true,
): Endpoint {
  return {
    service: `default/${service}`,
    cluster: 'default',
    address: '127.0.0.1',
    port,
    labels: { app: service, ...labels },
    healthy,
  };
}

export async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

export interface Fixture {
  readonly store: ConfigStore;
  readonly log: AccessLog;
  readonly lines: () => Record<string, unknown>[];
  gateway(limits?: Partial<ProxyLimits>): Promise<number>;
  outbound(workload?: Workload): Promise<number>;
  /** A sidecar's inbound side in front of the app on `appPort`: an endpoint as local mode has them. */
  inbound(appPort: number, workload?: Workload): Promise<{ port: number; proxy: ProxyServer }>;
  close(): Promise<void>;
}

/** Fixtures not closed yet: a test that fails before its own close() must not keep the run alive. */
const open = new Set<Fixture>();

/** For `afterEach`: closes what a test left open (its listeners would hold the process forever). */
export async function closeOpenFixtures(): Promise<void> {
  await Promise.all([...open].map((f) => f.close()));
}

/** `now`: the proxies' monotonic clock (ms), for tests that move time themselves. */
export function fixture(options: { now?: () => number } = {}): Fixture {
  const clock = options.now ? { now: options.now } : {};
  const store = new ConfigStore();
  const sink = memorySink();
  const log = new AccessLogClass(sink, { flushBytes: 1, flushMs: 1 });
  const proxies: ProxyServer[] = [];
  let closing: Promise<void> | undefined;
  const f: Fixture = {
    store,
    log,
    lines: () => {
      log.flush();
      return sink.entries() as unknown as Record<string, unknown>[];
    },
    async gateway(limits) {
      const proxy = createProxy({
        role: { kind: 'gateway', gateway: 'default/gw', port: 80 },
        source: store,
        accessLog: log,
        ...clock,
        ...(limits ? { limits } : {}),
      });
      proxies.push(proxy);
      return (await proxy.listen()).port;
    },
    async outbound(
      workload = { namespace: 'default', labels: { app: 'client' }, name: 'default/client' },
    ) {
      const proxy = createProxy({
        role: { kind: 'outbound', workload },
        source: store,
        accessLog: log,
        ...clock,
      });
      proxies.push(proxy);
      return (await proxy.listen()).port;
    },
    async inbound(
      appPort,
      workload = { namespace: 'default', labels: { app: 'app' }, name: 'default/app' },
    ) {
      const proxy = createProxy({
        role: { kind: 'inbound', workload, app: { host: '127.0.0.1', port: appPort } },
        source: store,
        accessLog: log,
        ...clock,
      });
      proxies.push(proxy);
      return { port: (await proxy.listen()).port, proxy };
    },
    close() {
      open.delete(f);
      closing ??= (async () => {
        await Promise.all(proxies.map((p) => p.close(200)));
        await log.close();
      })();
      return closing;
    },
  };
  open.add(f);
  return f;
}

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export function request(
  port: number,
  options: http.RequestOptions & { body?: string | Buffer },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends raw bytes and reads until the connection closes or goes quiet for `quietMs`. */
export function raw(
  port: number,
  bytes: string | Buffer,
  quietMs = 300,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(false), quietMs);
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    socket.on('close', () => done(true));
    socket.on('error', () => {});
    socket.write(bytes);
    arm();
  });
}
