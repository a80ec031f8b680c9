import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import { compile } from '../../core/compiler/compile.ts';
import { resourceViews, sourceText } from './resource-views.ts';

const YAML = `apiVersion: v1
kind: Service
metadata: { name: cart }
spec: { ports: [{ port: 8000, name: http }], selector: { app: cart } }
---
apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec:
  routeHeader: x-lane
  services: [cart]
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: dev }
spec:
  group: shop
  selector: { version: dev }
---
apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLaneGroup
metadata: { name: mock }
spec:
  isPermissive: true
  permissiveModeConfiguration: { routeHeader: version }
  services: [{ name: cart, namespace: default }]
---
apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLane
metadata: { name: v1, labels: { swimlane-group: mock } }
spec:
  labelSelector: { version: v1 }
  services: [{ name: cart, namespace: default }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: cart, namespace: shop }
spec:
  hosts: [cart.default.svc.cluster.local]
  http:
    - route:
        - destination: { host: cart.default.svc.cluster.local, subset: gone }
`;

const loaded = loadResources([{ file: 'mesh.yaml', text: YAML }]);
assert.ok(loaded.ok, loaded.issues.map((i) => i.message).join('\n'));
const { table, statuses } = compile(loaded.resources, []);
const sources = {
  resources: loaded.resources,
  statuses,
  table,
  instancesOf: () => undefined,
};

describe('resource views', () => {
  it('lists lanes whatever kind declared them, each with its own kind and what the compiler made of it', () => {
    const lanes = resourceViews(sources, { kind: 'Lane' });
    assert.deepEqual(
      lanes
        .map((v) => `${v.kind} ${v.name}: group ${v.lane?.group}, header ${v.lane?.routeHeader}`)
        .sort(),
      ['ASMSwimLane v1: group mock, header version', 'Lane dev: group shop, header x-lane'],
    );
    assert.deepEqual(
      resourceViews(sources, { kind: 'LaneGroup' })
        .map((v) => `${v.kind} ${v.laneGroup?.mode}`)
        .sort(),
      ['ASMSwimLaneGroup permissive', 'LaneGroup permissive'],
    );
  });

  it('keeps cluster-scoped resources when asked for a namespace', () => {
    const names = resourceViews(sources, { namespace: 'shop' })
      .map((v) => `${v.kind}/${v.name}`)
      .sort();
    assert.deepEqual(names, [
      'ASMSwimLane/v1',
      'ASMSwimLaneGroup/mock',
      'Lane/dev',
      'LaneGroup/shop',
      'VirtualService/cart',
    ]);
  });

  it('gives a broken reference’s condition the file:line:col of its field', () => {
    const [vs] = resourceViews(sources, { kind: 'VirtualService' });
    const resolved = vs?.conditions.find((c) => c.type === 'ResolvedRefs');
    assert.equal(resolved?.status, 'False');
    assert.equal(resolved?.reason, 'SubsetNotFound');
    const line = YAML.split('\n').findIndex((l) => l.includes('subset: gone')) + 1;
    assert.match(
      resolved?.message ?? '',
      new RegExp(`^mesh\\.yaml:${line}:\\d+ spec\\.http\\[0\\]`),
    );
    const start = YAML.split('\n').indexOf('apiVersion: networking.istio.io/v1') + 1;
    assert.deepEqual(vs?.source, { file: 'mesh.yaml', line: start });
  });

  it('names the file and line a resource came from, and nothing for one read from no file', () => {
    const r = loaded.resources[0]!;
    assert.equal(sourceText(r), `mesh.yaml:${r.origin.line}`);
    assert.equal(sourceText({ ...r, origin: { ...r.origin, file: undefined } }), '');
  });
});
