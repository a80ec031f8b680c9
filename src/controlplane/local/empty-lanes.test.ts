import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadResources } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { formatIssue } from '../../config/source/issues.ts';
import { emptyLanes } from './empty-lanes.ts';

const MESH = `apiVersion: v1
kind: Service
metadata: { name: cart }
spec: { selector: { app: cart }, ports: [{ port: 8000 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: cart-stable }
spec:
  selector: { matchLabels: { app: cart, version: stable } }
  template:
    metadata: { labels: { app: cart, version: stable } }
    spec: { containers: [{ name: c, command: [lanes, mock] }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: cart-zed }
spec:
  selector: { matchLabels: { app: cart, version: dev-zed } }
  template:
    metadata: { labels: { app: cart, version: dev-zed } }
    spec: { containers: [{ name: c, command: [lanes, mock] }] }
`;

function group(mode: string): string {
  return `apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: shop }
spec: { mode: ${mode}, routeHeader: x-lane, baseline: stable, services: [cart] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: stable }
spec: { group: shop, selector: { version: stable } }
`;
}

function lane(selector: string, groupName = 'shop'): string {
  return `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: dev-zed }
spec:
  group: ${groupName}
  selector: { version: ${selector} }
  services: [cart]
`;
}

function load(file: string, text: string): readonly Resource[] {
  const loaded = loadResources([{ file, text }]);
  assert.ok(loaded.ok, JSON.stringify(loaded.issues));
  return loaded.resources;
}

function notes(applied: string, mode = 'permissive'): string[] {
  const base = load('mesh.yaml', `${MESH}---\n${group(mode)}`);
  const mine = load('lane.yaml', applied);
  return emptyLanes(mine, [...base, ...mine]).map(formatIssue);
}

describe('emptyLanes: applied lanes that select no instance of a service they list', () => {
  test('a selector with a typo: a warning at the selector, saying where the requests go instead', () => {
    assert.deepEqual(notes(lane('dev-zedd')), [
      "lane.yaml:6:13: Lane dev-zed: spec.selector: lane dev-zed has no instance of default/cart: no Deployment's pods carry version=dev-zedd and are selected by that Service, so requests in this lane reach default/cart through the lane's fallback chain instead (its fallback lanes, then the baselines); check the selector against the Deployments' pod labels",
    ]);
  });

  test('a lane whose selector matches a Deployment’s pods: nothing to say', () => {
    assert.deepEqual(notes(lane('dev-zed')), []);
  });

  test('in a strict group the requests fail instead, and the warning says so', () => {
    assert.match(
      notes(lane('dev-zedd'), 'strict')[0]!,
      /so requests in this lane fail with 503 LANE_STRICT_MISS at default\/cart;/,
    );
  });

  test('an ASMSwimLane: the warning is at spec.labelSelector', () => {
    const asm = `apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLaneGroup
metadata: { name: mock }
spec:
  isPermissive: true
  permissiveModeConfiguration: { routeHeader: version }
  services: [{ name: cart, namespace: default }]
---
apiVersion: istio.alibabacloud.com/v1
kind: ASMSwimLane
metadata: { name: v9, labels: { swimlane-group: mock } }
spec:
  labelSelector: { version: v9 }
  services: [{ name: cart, namespace: default }]
`;
    const base = load('mesh.yaml', MESH);
    const mine = load('asm.yaml', asm);
    assert.deepEqual(
      emptyLanes(mine, [...base, ...mine]).map((i) => [i.resource, i.path, i.line]),
      [['ASMSwimLane v9', 'spec.labelSelector', 13]],
    );
  });

  test('a lane of a group that does not exist, or one not in this apply, is not reported here', () => {
    assert.deepEqual(
      notes(lane('dev-zedd', 'nope')),
      [],
      'its own status says the group is missing',
    );
    const base = load('mesh.yaml', `${MESH}---\n${group('permissive')}---\n${lane('dev-zedd')}`);
    assert.deepEqual(emptyLanes([], base), []);
  });
});
