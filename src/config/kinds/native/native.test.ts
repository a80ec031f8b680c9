import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadResources } from '../../load/resources.ts';
import { formatIssue } from '../../source/issues.ts';
import type { LaneSpec } from './lane.ts';
import type { LaneGroupSpec } from './lane-group.ts';
import type { MeshSpec } from './mesh.ts';

function load(text: string) {
  const result = loadResources([{ file: 'n.yaml', text }]);
  return {
    ...result,
    errors: result.issues.filter((i) => i.severity === 'error').map(formatIssue),
  };
}

const GROUP = (spec: string) =>
  `apiVersion: lanes.dev/v1alpha1\nkind: LaneGroup\nmetadata: {name: g}\nspec:\n${spec}`;
const LANE = (spec: string) =>
  `apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: {name: l}\nspec:\n${spec}`;

describe('native kinds', () => {
  it('every YAML example in README.md is accepted', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((b) => b.includes('apiVersion:'));
    assert.ok(blocks.length >= 3);
    for (const block of blocks) {
      const { errors } = load(block);
      assert.deepEqual(errors, [], block.slice(0, 80));
    }
  });

  it('applies defaults: permissive mode, baggage key = route header, services as references', () => {
    const { resources, errors } = load(
      GROUP(
        '  routeHeader: x-lane\n  carriers: [{type: baggage}, {type: traceId, header: x-request-id}]\n  services: [a, team/b, {name: c, fallback: [v1]}]\n',
      ),
    );
    assert.deepEqual(errors, []);
    const spec = resources[0]!.spec as LaneGroupSpec;
    assert.equal(spec.mode, 'permissive');
    assert.deepEqual(spec.carriers, [
      { type: 'baggage', key: 'x-lane' },
      { type: 'traceId', header: 'x-request-id' },
    ]);
    assert.deepEqual(
      spec.services.map((s) => [`${s.ref.namespace}/${s.ref.name}`, s.fallback]),
      [
        ['default/a', []],
        ['team/b', []],
        ['default/c', ['v1']],
      ],
    );
  });

  it('turns entry rules into splits', () => {
    const { resources, errors } = load(
      LANE(
        '  group: g\n  selector: {v: l}\n  entry:\n    - weight: 20\n    - sticky: {percent: 5, cookie: uid}\n    - match: {header: {name: x, exact: "1"}}\n',
      ),
    );
    assert.deepEqual(errors, []);
    const spec = resources[0]!.spec as LaneSpec;
    assert.deepEqual(
      spec.entry.map((e) => [e.name, e.split]),
      [
        ['rule-0', { kind: 'weight', percent: 20 }],
        ['rule-1', { kind: 'sticky', percent: 5, key: { cookie: 'uid' } }],
        ['rule-2', { kind: 'all' }],
      ],
    );
    assert.equal(spec.enabled, true);
  });

  const rejected: [string, string, RegExp][] = [
    [
      'a route header owned by tracing',
      GROUP('  routeHeader: baggage\n  services: [a]\n'),
      /owned by HTTP or tracing/,
    ],
    [
      'a service given as a map with a name that is not a DNS label',
      GROUP('  routeHeader: x-lane\n  services: [{ name: Foo_Bar, fallback: [v1] }]\n'),
      /services\[0\]\.name: Invalid value: "Foo_Bar": a service name must be a DNS-1123 label/,
    ],
    [
      'a baggage carrier key that is not a token',
      GROUP(
        '  routeHeader: x-lane\n  carriers: [{type: baggage, key: "la ne"}]\n  services: [a]\n',
      ),
      /"la ne": a baggage key must be an RFC 9110 token/,
    ],
    [
      'a route header the proxy drops (Proxy-*)',
      GROUP('  routeHeader: proxy-lane\n  services: [a]\n'),
      /"proxy-lane": proxies do not forward this header, so a lane tag in it would be lost after one hop/,
    ],
    [
      'a header carrier the proxy answers itself (Expect)',
      GROUP('  routeHeader: x-lane\n  carriers: [{type: header, name: expect}]\n  services: [a]\n'),
      /"expect": proxies do not forward this header/,
    ],
    [
      'an upper-case route header',
      GROUP('  routeHeader: X-Lane\n  services: [a]\n'),
      /header name must be lower-case/,
    ],
    [
      'a service listed twice',
      GROUP('  routeHeader: x-lane\n  services: [a, default/a]\n'),
      /Duplicate value: default\/a is already listed at services\[0\]/,
    ],
    [
      'a carrier field of another carrier type',
      GROUP('  routeHeader: x-lane\n  carriers: [{type: header, key: k}]\n  services: [a]\n'),
      /key does not apply to a carrier of type header/,
    ],
    [
      'a trace-id carrier without a header',
      GROUP('  routeHeader: x-lane\n  carriers: [{type: traceId}]\n  services: [a]\n'),
      /Required value: the header holding the trace id/,
    ],
    [
      'a header carrier that repeats the route header',
      GROUP('  routeHeader: x-lane\n  carriers: [{type: header, name: x-lane}]\n  services: [a]\n'),
      /the route header always carries the tag/,
    ],
    [
      'a lane with an empty selector',
      LANE('  group: g\n  selector: {}\n'),
      /a lane needs at least one label/,
    ],
    [
      'weight and sticky together',
      LANE(
        '  group: g\n  selector: {a: b}\n  entry: [{weight: 1, sticky: {percent: 1, header: h}}]\n',
      ),
      /only one of "weight", "sticky" may be set/,
    ],
    [
      'a percentage above 100',
      LANE('  group: g\n  selector: {a: b}\n  entry: [{weight: 101}]\n'),
      /Invalid value: 101: must be between 0 and 100/,
    ],
    [
      'a condition with two tests',
      LANE(
        '  group: g\n  selector: {a: b}\n  entry: [{match: {header: {name: h, exact: a, prefix: b}}}]\n',
      ),
      /only one of .* may be set/,
    ],
    [
      'two conditions in one object',
      LANE(
        '  group: g\n  selector: {a: b}\n  entry: [{match: {header: {name: h, present: true}, path: {prefix: /}}}]\n',
      ),
      /combine conditions with all\/any/,
    ],
    [
      'present: false',
      LANE(
        '  group: g\n  selector: {a: b}\n  entry: [{match: {header: {name: h, present: false}}}]\n',
      ),
      /write `absent: true`/,
    ],
    [
      'absent on a path',
      LANE('  group: g\n  selector: {a: b}\n  entry: [{match: {path: {absent: true}}}]\n'),
      /unknown field "absent"/,
    ],
    [
      'an invalid regex',
      LANE(
        '  group: g\n  selector: {a: b}\n  entry: [{match: {header: {name: h, regex: "a(?=b)"}}}]\n',
      ),
      /lookahead/,
    ],
    [
      'duplicate rule names',
      LANE('  group: g\n  selector: {a: b}\n  entry: [{name: x}, {name: x}]\n'),
      /Duplicate value: "x"/,
    ],
    [
      'a Mesh not named default',
      'apiVersion: lanes.dev/v1alpha1\nkind: Mesh\nmetadata: {name: prod}\n',
      /must be named "default"/,
    ],
    [
      'a trace memory TTL under a second',
      'apiVersion: lanes.dev/v1alpha1\nkind: Mesh\nmetadata: {name: default}\nspec: {traceMemory: {ttl: 10ms}}\n',
      /must be at least 1s/,
    ],
  ];
  for (const [what, text, message] of rejected) {
    it(`rejects ${what}`, () => {
      const { errors } = load(text);
      assert.ok(
        errors.some((e) => message.test(e)),
        errors.join('\n'),
      );
    });
  }

  it('reports metadata.namespace on a cluster-scoped kind as ignored', () => {
    const { ok, issues } = load(
      'apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: {name: l, namespace: team}\nspec: {group: g, selector: {a: b}}\n',
    );
    assert.equal(ok, true);
    assert.match(formatIssue(issues[0]!), /metadata\.namespace: ignored: Lane is cluster-scoped/);
  });

  it('a Mesh without spec takes the defaults', () => {
    const { resources } = load(
      'apiVersion: lanes.dev/v1alpha1\nkind: Mesh\nmetadata: {name: default}\n',
    );
    assert.deepEqual(resources[0]!.spec as MeshSpec, {
      outboundTrafficPolicy: 'ALLOW_ANY',
      traceMemory: { maxEntries: 100000, ttlMs: 300000 },
    });
  });
});
