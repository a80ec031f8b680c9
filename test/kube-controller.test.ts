/**
 * `lanes controller` against a FAKE Kubernetes API server (test/support/fake-kube-api.ts) on a
 * real socket, through @kubernetes/client-node: it renders the reference story's step 1 into
 * Istio objects, server-side applies what it owns, merges into the user's VirtualService, writes
 * status subresources, reports a rejected resource with one Event, prunes what it no longer
 * wants, leaves alone what it does not own, elects one leader through a Lease, and coalesces a
 * burst of 500 pod changes into a bounded number of writes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { laneCrds } from '../src/config/crd/crds.ts';
import { Controller } from '../src/controlplane/kube/controller.ts';
import { KubeApi } from '../src/controlplane/kube/kube-api.ts';
import { run } from '../src/tools/cli/main.ts';
import { FakeKubeApi } from './support/fake-kube-api.ts';

type Json = Record<string, unknown>;
const STORY = new URL('../examples/story/', import.meta.url);

function story(file: string): Json[] {
  return parseAllDocuments(readFileSync(new URL(file, STORY), 'utf8')).map((d) => d.toJS() as Json);
}

function pod(app: string, version: string, i: number, ready = true): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${app}-${version}-${i}`, namespace: 'default', labels: { app, version } },
    spec: { containers: [{ name: 'app', image: 'mock' }] },
    status: {
      phase: 'Running',
      podIP: `10.1.${i >> 8}.${i & 255}`,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'test' }],
    currentContext: 'fake',
  });
  return kc;
}

function controller(server: string, identity: string): Controller {
  return new Controller(new KubeApi(kubeConfig(server)), {
    namespace: 'lanes-system',
    identity,
    healthPort: 0,
    healthHost: '127.0.0.1',
    minIntervalMs: 50,
    leaseDurationMs: 1000,
    renewDeadlineMs: 800,
    retryPeriodMs: 100,
  });
}

async function settled(c: Controller): Promise<void> {
  // Our own writes come back as watch events: settle until a quiet reconcile.
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 150));
    await c.idle();
    const before = c.reconciles;
    await new Promise((r) => setTimeout(r, 150));
    await c.idle();
    if (c.reconciles === before) return;
  }
}

const VS = 'networking.istio.io/v1';
/** Writes other than the Lease renewals of leader election. */
const NOT_LEASE = /^\S+ (?!Lease)/;

describe('lanes controller against a fake API server', () => {
  const fake = new FakeKubeApi(50);
  let server: string;
  let a: Controller;

  before(async () => {
    server = await fake.listen();
    for (const crd of laneCrds({ asm: true })) fake.put(crd as unknown as Json);
    for (const file of ['gateways.yaml', 'swimlane-v1.yaml', 'ingress-vs.yaml'])
      for (const o of story(file)) fake.put(o);
    for (const o of story('mock.yaml')) if (o.kind === 'Service') fake.put(o);
    for (const app of ['mocka', 'mockb', 'mockc']) fake.put(pod(app, 'v1', 0));
    // Not lanes': a user's VirtualService for another host, and a DestinationRule named like lanes'.
    fake.put({
      apiVersion: VS,
      kind: 'VirtualService',
      metadata: { name: 'other', namespace: 'shop' },
      spec: {
        hosts: ['other.shop.svc.cluster.local'],
        http: [{ route: [{ destination: { host: 'other.shop.svc.cluster.local' } }] }],
      },
    });
    a = controller(server, 'replica-a');
    await a.start();
    await until('replica-a leads', () => a.leading);
    await settled(a);
  });

  after(async () => {
    await a.stop();
    await fake.close();
  });

  it('serves /healthz and /readyz once its caches are synced', async () => {
    const port = a.healthAddress!.port;
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(res.status, 200, path);
    }
  });

  it('server-side applies a DestinationRule and a VirtualService per lane-group service, as field manager lanes', () => {
    for (const svc of ['mocka', 'mockb', 'mockc']) {
      const dr = fake.get(VS, 'DestinationRule', 'default', `${svc}-lanes`);
      assert.ok(dr, `${svc}-lanes DestinationRule`);
      assert.deepEqual((dr.spec as Json).subsets, [{ name: 'v1', labels: { version: 'v1' } }]);
      const vs = fake.get(VS, 'VirtualService', 'default', `${svc}-lanes`);
      assert.ok(vs, `${svc}-lanes VirtualService`);
      assert.equal(((vs.metadata as Json).labels as Json)['app.kubernetes.io/managed-by'], 'lanes');
      assert.deepEqual(
        Object.keys(fake.managersOf(VS, 'VirtualService', 'default', `${svc}-lanes`)),
        ['lanes'],
      );
    }
  });

  it("merges into the user's gateway VirtualService and records the user's spec", () => {
    const vs = fake.get(VS, 'VirtualService', 'istio-system', 'swimlane-ingress-vs')!;
    const annotations = (vs.metadata as Json).annotations as Record<string, string>;
    const user = JSON.parse(annotations['lanes.dev/user-spec']!) as Json;
    assert.deepEqual(
      user.http,
      story('ingress-vs.yaml')[0]!.spec && (story('ingress-vs.yaml')[0]!.spec as Json).http,
    );
    const dest = ((vs.spec as Json).http as Json[])[0]!.route as Json[];
    assert.deepEqual((dest[0]!.headers as Json).request, {
      set: { version: 'v1' },
      add: { baggage: 'version=v1' },
    });
  });

  it('writes structured status conditions with observedGeneration, no file paths', () => {
    const group = fake.get('istio.alibabacloud.com/v1', 'ASMSwimLaneGroup', '', 'mock')!;
    const status = group.status as { observedGeneration: number; conditions: Json[] };
    assert.equal(status.observedGeneration, (group.metadata as Json).generation);
    assert.deepEqual(
      status.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
      [
        'Accepted=True/Accepted',
        'ResolvedRefs=True/ResolvedRefs',
        'Programmed=True/Programmed',
        'Degraded=True/BaggageHygieneNeedsExtension',
      ],
    );
    const degraded = status.conditions.find((c) => c.type === 'Degraded')!;
    assert.match(String(degraded.message), /spec\.isPermissive: HealthFallbackNotRendered: /);
    for (const c of status.conditions) {
      assert.equal(c.observedGeneration, 1);
      assert.doesNotMatch(String(c.message), /\.ya?ml/);
    }
  });

  it('never touches objects it does not own', () => {
    const other = fake.get(VS, 'VirtualService', 'shop', 'other')!;
    assert.equal((other.metadata as Json).resourceVersion !== undefined, true);
    assert.deepEqual(Object.keys(fake.managersOf(VS, 'VirtualService', 'shop', 'other')), [
      'kubectl',
    ]);
  });

  it('is idempotent: a change that renders the same leads to no write', async () => {
    const writes = fake.writes(NOT_LEASE);
    const runs = a.reconciles;
    fake.put({
      ...pod('mocka', 'v1', 0),
      metadata: {
        name: 'mocka-v1-0',
        namespace: 'default',
        labels: { app: 'mocka', version: 'v1', unrelated: 'x' },
      },
    });
    await settled(a);
    assert.ok(a.reconciles > runs, 'the change was reconciled');
    assert.equal(fake.writes(NOT_LEASE), writes, 'and nothing was written');
  });

  it('reports a resource it cannot read with Accepted=False and one Warning Event', async () => {
    fake.put({
      apiVersion: 'lanes.dev/v1alpha1',
      kind: 'LaneGroup',
      metadata: { name: 'bad' },
      spec: { routeHeader: 'X-Lane', services: ['a'] },
    });
    await settled(a);
    const bad = fake.get('lanes.dev/v1alpha1', 'LaneGroup', '', 'bad')!;
    const accepted = (bad.status as { conditions: Json[] }).conditions.find(
      (c) => c.type === 'Accepted',
    )!;
    assert.equal(accepted.status, 'False');
    assert.equal(accepted.reason, 'Invalid');
    assert.match(String(accepted.message), /^spec\.routeHeader: .*lower-case/);
    const events = fake
      .list('v1', 'Event')
      .filter((e) => (e.involvedObject as Json).name === 'bad');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.reason, 'Rejected');
    fake.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'nudge', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
    await settled(a);
    assert.equal(
      fake.list('v1', 'Event').filter((e) => (e.involvedObject as Json).name === 'bad').length,
      1,
      'not again for the same generation',
    );
  });

  it('says on a Release that no cluster runs its steps, and that its lane is not created without a Lane (no Deployments here): Degraded=True, ReleaseNotRendered', async () => {
    fake.put({
      apiVersion: 'lanes.dev/v1alpha1',
      kind: 'Release',
      metadata: { name: 'mock-v2' },
      spec: { group: 'mock', lane: 'v2', workloads: ['mocka-v2'], steps: [{ weight: 20 }] },
    });
    await settled(a);
    const release = fake.get('lanes.dev/v1alpha1', 'Release', '', 'mock-v2')!;
    const conditions = (release.status as { conditions: Json[] }).conditions;
    assert.deepEqual(
      conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
      [
        'Accepted=True/Accepted',
        'ResolvedRefs=True/ResolvedRefs',
        'Programmed=True/Programmed',
        'Degraded=True/ReleaseNotRendered',
      ],
    );
    assert.match(
      String(conditions.find((c) => c.type === 'Degraded')!.message),
      /^spec\.steps: ReleaseNotRendered: the weight steps \(20 %\), analysis, rollback, promotion and cleanup of a Release are driven by lanes' local daemon .*; spec\.lane: ReleaseLaneNotRendered: lane v2 is not rendered: .*apply a Lane v2 \(group mock\) that selects their pods$/,
    );
  });

  it('coalesces a burst of 500 pod changes into a bounded number of reconciles and writes', async (t) => {
    const runs = a.reconciles;
    const writes = fake.writes(NOT_LEASE);
    for (let i = 1; i <= 500; i++) fake.put(pod('mockb', 'v1', i));
    await settled(a);
    const reconciles = a.reconciles - runs;
    const ours = fake.writes(NOT_LEASE) - writes;
    assert.ok(reconciles >= 1 && reconciles <= 10, `${reconciles} reconciles for 500 changes`);
    assert.ok(ours <= 10, `${ours} writes for 500 changes`);
    t.diagnostic(`500 pod changes: ${reconciles} reconciles, ${ours} writes`);
  });

  it('leaves a host to a user’s mesh VirtualService it cannot read, and says so on the group', async () => {
    const own = {
      apiVersion: VS,
      kind: 'VirtualService',
      metadata: { name: 'mockb-own', namespace: 'default' },
      spec: {
        hosts: ['mockb'],
        http: [
          {
            corsPolicy: { allowOrigins: [{ exact: '*' }] },
            route: [{ destination: { host: 'mockb' } }],
          },
        ],
      },
    };
    fake.put(own);
    await settled(a);
    assert.equal(
      fake.get(VS, 'VirtualService', 'default', 'mockb-lanes'),
      undefined,
      'no second VirtualService for mockb',
    );
    assert.deepEqual(Object.keys(fake.managersOf(VS, 'VirtualService', 'default', 'mockb-own')), [
      'kubectl',
    ]);
    const group = fake.get('istio.alibabacloud.com/v1', 'ASMSwimLaneGroup', '', 'mock')!;
    const degraded = (group.status as { conditions: Json[] }).conditions.find(
      (c) => c.type === 'Degraded',
    )!;
    assert.match(
      String(degraded.message),
      /UserObjectUnreadable: VirtualService default\/mockb-own routes default\/mockb/,
    );
    fake.remove(VS, 'VirtualService', 'default', 'mockb-own');
    await settled(a);
    assert.ok(fake.get(VS, 'VirtualService', 'default', 'mockb-lanes'), 'lanes routes mockb again');
  });

  it('prunes what it owns and restores the user’s VirtualService when the lanes go', async () => {
    fake.remove('istio.alibabacloud.com/v1', 'ASMSwimLane', '', 'v1');
    fake.remove('istio.alibabacloud.com/v1', 'ASMSwimLaneGroup', '', 'mock');
    await settled(a);
    for (const svc of ['mocka', 'mockb', 'mockc']) {
      assert.equal(fake.get(VS, 'VirtualService', 'default', `${svc}-lanes`), undefined);
      assert.equal(fake.get(VS, 'DestinationRule', 'default', `${svc}-lanes`), undefined);
    }
    const vs = fake.get(VS, 'VirtualService', 'istio-system', 'swimlane-ingress-vs')!;
    assert.equal((vs.metadata as Json).annotations, undefined);
    assert.deepEqual((vs.spec as Json).http, (story('ingress-vs.yaml')[0]!.spec as Json).http);
  });

  it('elects one leader through the Lease; the other takes over when it stops', async () => {
    const b = controller(server, 'replica-b');
    await b.start();
    try {
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(a.leading, true);
      assert.equal(b.leading, false);
      assert.equal(b.reconciles, 0, 'a replica that does not lead writes nothing');
      await a.stop();
      await until('replica-b leads', () => b.leading, 5000);
      const lease = fake.get(
        'coordination.k8s.io/v1',
        'Lease',
        'lanes-system',
        'lanes-controller',
      )!;
      assert.equal((lease.spec as Json).holderIdentity, 'replica-b');
    } finally {
      await b.stop();
    }
  });
});

describe('lanes controller (the command) against a fake API server', () => {
  it('reads a kubeconfig, reconciles, serves health, and stops on its signal, also where the Release CRD was never installed', async () => {
    const fake = new FakeKubeApi(50);
    const server = await fake.listen();
    const dir = mkdtempSync(join(tmpdir(), 'lanes-controller-'));
    try {
      // As installed before Release had a CRD: the controller must not need it.
      for (const crd of laneCrds({ asm: true }).filter((c) => c.spec.names.kind !== 'Release'))
        fake.put(crd as unknown as Json);
      for (const o of story('mock.yaml')) if (o.kind === 'Service') fake.put(o);
      for (const o of story('swimlane-v1.yaml')) fake.put(o);
      const kubeconfig = join(dir, 'config');
      writeFileSync(
        kubeconfig,
        `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]\nusers: [{name: t, user: {token: fake}}]\ncontexts: [{name: fake, context: {cluster: fake, user: t}}]\ncurrent-context: fake\n`,
      );
      const abort = new AbortController();
      let stderr = '';
      const done = run(['controller', '--kubeconfig', kubeconfig, '--health-port', '0'], {
        stdout: { write: () => true },
        stderr: {
          write: (s: string) => {
            stderr += s;
          },
        },
        env: { POD_NAME: 'cli-replica' },
        cwd: dir,
        signal: abort.signal,
      });
      await until(
        'the controller applied a DestinationRule',
        () => fake.get(VS, 'DestinationRule', 'default', 'mocka-lanes') !== undefined,
      );
      abort.abort();
      assert.equal(await done, 0, stderr);
      assert.match(stderr, /cli-replica leads/);
      assert.match(stderr, /the Release CRD is not installed \(lanes install adds it\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await fake.close();
    }
  });
});
