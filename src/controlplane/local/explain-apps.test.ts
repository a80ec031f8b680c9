import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import type { TableEndpoint } from '../../core/compiler/table.ts';
import { appOf, fromWorkload, type LocalMesh } from './explain-apps.ts';
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
      propagate: ['baggage', 'b3'],
    });
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
          'there is no Deployment default/mockz to start from; Deployments: default/mocka, default/mockb, shop/own',
    );
  });
});
