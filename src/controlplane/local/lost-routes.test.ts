import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeploymentSpec } from '../../config/kinds/kube/index.ts';
import { loadResources } from '../../config/load/resources.ts';
import type { Resource } from '../../config/resource/resource.ts';
import { compile } from '../../core/compiler/compile.ts';
import { endpointsFor } from '../../core/compiler/endpoints.ts';
import type { RoutingTable } from '../../core/compiler/table.ts';
import { lostRoutes } from './lost-routes.ts';

function deployment(name: string, app: string, version: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${app}, version: ${version} } }
  template:
    metadata: { labels: { app: ${app}, version: ${version} } }
    spec: { containers: [{ name: c, command: [lanes, mock] }] }
---
`;
}

function group(mode: 'permissive' | 'strict'): string {
  return `apiVersion: v1
kind: Service
metadata: { name: shop }
spec: { selector: { app: shop }, ports: [{ port: 8000, name: http }] }
---
apiVersion: v1
kind: Service
metadata: { name: cart }
spec: { selector: { app: cart }, ports: [{ port: 8000, name: http }] }
---
${deployment('shop-base', 'shop', 'base')}${deployment('cart-base', 'cart', 'base')}${deployment('cart-dev', 'cart', 'dev')}apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: g }
spec: { mode: ${mode}, routeHeader: x-lane, baseline: base, services: [shop, cart] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: base }
spec: { group: g, selector: { version: base } }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: dev }
spec: { group: g, selector: { version: dev }, services: [cart] }
`;
}

/** The table with one ready instance of every Deployment but those named in `without`. */
function table(yaml: string, without: readonly string[] = []): RoutingTable {
  const loaded = loadResources([{ file: 'mesh.yaml', text: yaml }]);
  assert.ok(loaded.ok, JSON.stringify(loaded.issues));
  const deployments = loaded.resources.filter(
    (r) => r.kind === 'Deployment' && !without.includes(r.metadata.name),
  ) as Resource<string, DeploymentSpec>[];
  const instances = deployments.map((d, n) => ({
    workload: `default/${d.metadata.name}`,
    namespace: 'default',
    cluster: 'default',
    labels: d.spec.template.labels,
    address: '127.0.0.1',
    port: 9000 + n,
    healthy: true,
  }));
  return compile(loaded.resources, endpointsFor(loaded.resources, instances)).table;
}

describe('lostRoutes: what a deletion took from traffic that still flows', () => {
  const permissive = group('permissive');

  test('the baseline’s last instance of a service gone: its lanes and untagged requests now fail', () => {
    assert.deepEqual(lostRoutes(table(permissive), table(permissive, ['cart-base'])), [
      'warning: requests for default/cart in lane base and without a lane tag reached an instance before and now get 503 LANE_NO_ENDPOINTS: no healthy endpoint of default/cart in lane base, instances in no lane; deploy an instance of default/cart in one of those lanes or in a lane they fall back to (lanes explain shows the chain)',
    ]);
  });

  test('a lane’s own instance gone while its requests fall back to the baseline: nothing is lost', () => {
    assert.deepEqual(lostRoutes(table(permissive), table(permissive, ['cart-dev'])), []);
  });

  test('a strict lane’s only instance gone: its requests now fail with LANE_STRICT_MISS', () => {
    const strict = group('strict');
    const lines = lostRoutes(table(strict), table(strict, ['cart-dev']));
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^warning: requests for default\/cart in lane dev reached an instance before and now get 503 LANE_STRICT_MISS: lane dev of strict group LaneGroup\/g /,
    );
  });

  test('what already failed before is not reported again, and without a table before nothing is', () => {
    const broken = table(permissive, ['cart-base']);
    assert.deepEqual(
      lostRoutes(broken, table(permissive, ['cart-base', 'cart-dev'])).map(
        (l) => l.split(' reached ')[0],
      ),
      ['warning: requests for default/cart in lane dev'],
      'lane base and untagged requests failed already',
    );
    assert.deepEqual(lostRoutes(undefined, broken), []);
  });
});
