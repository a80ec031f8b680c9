import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeploymentSpec } from '../../config/kinds/kube/index.ts';
import { loadResources } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { instancesOf, workloadSummary, workloadViews } from './workload-views.ts';
import type { InstanceState } from './workloads/supervisor.ts';
import type { InstanceRecord } from './workloads/workloads.ts';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, command: [node, web.js] }]
`;

function deployment(cluster?: string): Resource<string, DeploymentSpec> {
  const loaded = loadResources(
    [{ file: 'web.yaml', text: DEPLOYMENT }],
    cluster === undefined ? {} : { cluster },
  );
  assert.ok(loaded.ok);
  return loaded.resources[0] as Resource<string, DeploymentSpec>;
}

/** An instance record as Workloads keeps it; the sidecar is never read by the views. */
function instance(index: number, more: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    key: `default/web@default#${index}${more.leaving ? '-old' : ''}`,
    deploymentKey: 'apps/Deployment default/web@default',
    workload: 'default/web',
    cluster: 'default',
    namespace: 'default',
    index,
    labels: { app: 'web' },
    appPort: 9000 + index,
    sidecar: undefined as never,
    inboundPort: 9100 + index,
    outboundPort: 9200 + index,
    logFile: `/logs/web-${index}.log`,
    hash: 'h',
    leaving: false,
    ...more,
  };
}

function state(key: string, more: Partial<InstanceState>): InstanceState {
  return {
    key,
    status: 'ready',
    pid: 100,
    restarts: 0,
    lastExit: null,
    startedAt: 0,
    ...more,
  };
}

describe('workload views', () => {
  const records = [
    instance(2),
    instance(0),
    instance(1, { leaving: true }),
    instance(1),
    instance(0, { cluster: 'dev', key: 'default/web@dev#0' }),
  ];
  const states = new Map([
    ['default/web@default#0', state('default/web@default#0', { restarts: 2 })],
    [
      'default/web@default#2',
      state('default/web@default#2', { status: 'backoff', restarts: 1, lastExit: 'exit 1' }),
    ],
  ]);
  const source = { instances: () => records, state: (key: string) => states.get(key) };

  it('lists the current instances of a Deployment in its cluster, by index, without the ones leaving', () => {
    const views = instancesOf(deployment(), source);
    assert.deepEqual(
      views.map((v) => [v.index, v.status, v.endpoint, v.restarts, v.lastExit]),
      [
        [0, 'ready', '127.0.0.1:9100', 2, null],
        // No state reported yet: still starting.
        [1, 'starting', '127.0.0.1:9101', 0, null],
        [2, 'backoff', '127.0.0.1:9102', 1, 'exit 1'],
      ],
    );
    assert.deepEqual(
      instancesOf(deployment('dev'), source).map((v) => v.proxy),
      ['http://127.0.0.1:9200'],
    );
  });

  it('summarises a Deployment as lanes status shows it: desired, ready and restarts of the same instances', () => {
    const [view] = workloadViews([deployment()], source);
    assert.deepEqual(workloadSummary(view!), {
      name: 'web',
      namespace: 'default',
      cluster: 'default',
      replicas: 3,
      ready: 1,
      restarts: 3,
    });
  });
});
