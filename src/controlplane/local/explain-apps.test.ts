import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import { compile } from '../../core/compiler/compile.ts';
import type { TableEndpoint } from '../../core/compiler/table.ts';
import { appOf, fromWorkload, gatewayStart, type LocalMesh } from './explain-apps.ts';
import { RequestError } from './request-error.ts';
import type { InstanceRecord } from './workloads/workloads.ts';

const YAML = `apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata: { name: demo }
spec: { propagators: [baggage, b3] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: mocka }
spec:
  selector: { matchLabels: { app: mocka } }
  template:
    metadata:
      labels: { app: mocka, version: v1 }
      annotations: { instrumentation.opentelemetry.io/inject-nodejs: "true" }
    spec:
      containers:
        - name: mock
          image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java
          env: [{ name: upstream_url, value: "http://mockb:8000/next?x=1" }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: mockb }
spec:
  selector: { matchLabels: { app: mockb } }
  template:
    metadata: { labels: { app: mockb } }
    spec:
      containers:
        - name: mock
          image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java
          env: [{ name: upstream_url, value: "not a url" }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: mockg }
spec:
  selector: { matchLabels: { app: mockg } }
  template:
    metadata: { labels: { app: mockg } }
    spec:
      containers:
        - name: mock
          image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java
          env:
            - { name: protocol, value: grpc }
            - { name: upstream_url, value: "grpc://mockb:8000" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: own, namespace: shop }
spec:
  selector: { matchLabels: { app: own } }
  template:
    metadata: { labels: { app: own } }
    spec:
      containers: [{ name: own, command: [node, own.js] }]
`;

function instance(workload: string, index: number, inboundPort: number): InstanceRecord {
  const [namespace, name] = workload.split('/') as [string, string];
  return {
    key: `${workload}@default#${index}`,
    deploymentKey: `apps/Deployment ${workload}@default`,
    workload,
    cluster: 'default',
    namespace,
    index,
    labels: { app: name },
    appPort: inboundPort + 1000,
    sidecar: undefined as never,
    inboundPort,
    outboundPort: inboundPort + 2000,
    logFile: `/logs/${name}.log`,
    hash: 'h',
    leaving: false,
  };
}

const loaded = loadResources([{ file: 'mesh.yaml', text: YAML }]);
assert.ok(loaded.ok);
const mesh: LocalMesh = {
  resources: loaded.resources,
  instances: [
    instance('default/mocka', 0, 7001),
    instance('default/mockb', 0, 7002),
    instance('shop/own', 0, 7003),
    instance('default/mockg', 0, 7004),
  ],
};

function endpoint(port: number): TableEndpoint {
  return { port } as TableEndpoint;
}

describe('explain’s model of local apps', () => {
  it('follows a mock service to its upstream_url, forwarding what its Instrumentation propagates', () => {
    assert.deepEqual(appOf(mesh, endpoint(7001)), {
      workload: {
        namespace: 'default',
        labels: { app: 'mocka' },
        cluster: 'default',
        name: 'default/mocka',
      },
      appAddress: '127.0.0.1:8001',
      upstream: 'mockb:8000',
      upstreamPath: '/next?x=1',
      upstreamMethod: 'GET',
      propagate: ['baggage', 'b3'],
    });
  });

  it('follows a gRPC mock to its one method at its grpc:// upstream, as a POST', () => {
    const g = appOf(mesh, endpoint(7004));
    assert.deepEqual(
      [g?.upstream, g?.upstreamPath, g?.upstreamMethod, g?.upstreamProtocol],
      ['mockb:8000', '/lanes.mock.Mock/Call', 'POST', 'grpc'],
    );
  });

  it('stops at a mock whose upstream_url is not a URL, and at an app with its own command', () => {
    const b = appOf(mesh, endpoint(7002));
    assert.equal(b?.upstream, undefined);
    assert.deepEqual(b?.propagate, []);
    const own = appOf(mesh, endpoint(7003));
    assert.equal(own?.upstream, undefined);
    assert.equal(
      own?.opaque,
      'shop/own runs its own command: where it calls next is up to its code',
    );
  });

  it('knows no app behind an endpoint the daemon does not run', () => {
    assert.equal(appOf(mesh, endpoint(9999)), undefined);
  });

  it('starts --from a bare name in namespace default, and from a Deployment with no instance yet', () => {
    assert.equal(fromWorkload(mesh, 'mocka').name, 'default/mocka');
    assert.deepEqual(fromWorkload({ ...mesh, instances: [] }, 'shop/own'), {
      namespace: 'shop',
      labels: { app: 'own' },
      name: 'shop/own',
    });
  });

  it('refuses --from a Deployment that does not exist with a 404 listing the ones that do', () => {
    assert.throws(
      () => fromWorkload(mesh, 'mockz'),
      (e: unknown) =>
        e instanceof RequestError &&
        e.status === 404 &&
        e.message ===
          'there is no Deployment default/mockz to start from; Deployments: default/mocka, default/mockb, default/mockg, shop/own',
    );
  });

  describe('--gateway', () => {
    const gateways = loadResources([
      {
        file: 'gw.yaml',
        text: `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ingressgateway, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: ["*"]
    - port: { number: 8080, name: http-alt, protocol: HTTP }
      hosts: ["*"]
`,
      },
    ]);
    assert.ok(gateways.ok);
    const { table } = compile(gateways.resources, []);
    const refused = (gateway: string, port: number | undefined, message: string) =>
      assert.throws(
        () => gatewayStart(table, gateway, port),
        (e: unknown) => e instanceof RequestError && e.status === 404 && e.message === message,
      );

    it('starts at a Gateway that exists, on any of its server ports', () => {
      assert.deepEqual(gatewayStart(table, 'istio-system/ingressgateway', 8080), {
        kind: 'gateway',
        gateway: 'istio-system/ingressgateway',
        port: 8080,
      });
    });

    it('refuses a Gateway that does not exist with a 404 listing the ones that do', () => {
      refused(
        'default/ingressgateway',
        undefined,
        'there is no Gateway default/ingressgateway; Gateways: istio-system/ingressgateway',
      );
      assert.throws(
        () => gatewayStart(compile([], []).table, 'a/b', undefined),
        /there is no Gateway a\/b; Gateways: none \(apply an Istio Gateway first\)/,
      );
    });

    it('refuses a --port the Gateway has no server on, listing its ports', () => {
      refused(
        'istio-system/ingressgateway',
        81,
        "Gateway istio-system/ingressgateway has no server on port 81; its ports: 80, 8080 (--port is the port in the Gateway's servers, not the local URL's)",
      );
    });
  });
});
