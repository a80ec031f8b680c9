import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatIssue } from '../source/issues.ts';
import { readSources } from './files.ts';
import { loadResources } from './resources.ts';

const LANE = `apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: v1 }
spec: { group: g, selector: { version: v1 } }
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: mocka }
spec:
  selector: { app: mocka }
  ports: [{ port: 8000, name: http }]
`;

function errors(text: string, file = 'in.yaml'): string[] {
  return loadResources([{ file, text }])
    .issues.filter((i) => i.severity === 'error')
    .map(formatIssue);
}

describe('loadResources', () => {
  it('rejects the whole apply when one document of two is invalid, naming file:line:col', () => {
    const result = loadResources([
      {
        file: 'two.yaml',
        text: `${LANE}---\n${LANE.replace('name: v1', 'name: v2').replace('group: g', 'gruop: g')}`,
      },
    ]);
    assert.equal(result.ok, false);
    assert.deepEqual(result.issues.filter((i) => i.severity === 'error').map(formatIssue), [
      'two.yaml:9:9: Lane v2: spec.gruop: unknown field "gruop": did you mean "group"?',
      'two.yaml:9:7: Lane v2: spec.group: Required value',
    ]);
  });

  const kindErrors: [string, string, RegExp][] = [
    [
      'an unknown kind, with a suggestion',
      'apiVersion: networking.istio.io/v1\nkind: VirtualServce\nmetadata: {name: x}\nspec: {}\n',
      /in\.yaml:2:7: kind: unknown kind "VirtualServce" \(did you mean "VirtualService"\?\)/,
    ],
    [
      'a kind lanes does not support yet',
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x}\nspec: {}\n',
      /kind: ServiceEntry \(networking\.istio\.io\/v1\) is not supported by lanes yet/,
    ],
    [
      'a version the kind is not served in',
      'apiVersion: lanes.dev/v1\nkind: Lane\nmetadata: {name: x}\nspec: {}\n',
      /apiVersion: Unsupported value: "lanes\.dev\/v1": Lane is served as lanes\.dev\/v1alpha1/,
    ],
    ['a missing apiVersion', 'kind: Lane\nmetadata: {name: x}\n', /apiVersion: Required value/],
    [
      'a document that is not an object',
      '- a\n- b\n',
      /must be an object with apiVersion, kind, metadata and spec/,
    ],
    [
      'a bad name',
      'apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: {name: Dev_Alice}\nspec: {group: g, selector: {a: b}}\n',
      /metadata\.name: Invalid value: "Dev_Alice": a name must be a DNS-1123 subdomain/,
    ],
    ['an unknown top-level field', `${LANE}extra: 1\n`, /extra: unknown field "extra"/],
    [
      'a misspelt lanes annotation',
      'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  annotations: {lanes.dev/trust-client-lanes: "true"}\nspec: {selector: {a: b}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]}\n',
      /did you mean "lanes\.dev\/trust-client-lane"\?/,
    ],
  ];
  for (const [what, text, message] of kindErrors) {
    it(`reports ${what}`, () => {
      const got = errors(text);
      assert.ok(
        got.some((e) => message.test(e)),
        got.join('\n'),
      );
    });
  }

  it('rejects a resource defined twice in one apply and says where the first one is', () => {
    const got = errors(`${LANE}---\n${LANE}`, 'dup.yaml');
    assert.deepEqual(got, [
      'dup.yaml:6:1: Lane v1: defined twice in one apply; the first definition is at dup.yaml:1:1',
    ]);
  });

  it('places Services in the requested cluster and keeps lanes mesh-wide', () => {
    const result = loadResources([{ file: 'a.yaml', text: `${SERVICE}---\n${LANE}` }], {
      cluster: 'dev',
    });
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.resources.map((r) => [r.kind, r.id.cluster, r.id.namespace]),
      [
        ['Service', 'dev', 'default'],
        ['Lane', '', ''],
      ],
    );
  });

  it('lets the same Service exist in two clusters', () => {
    const result = loadResources([{ file: 'prod.yaml', text: SERVICE }]);
    const dev = loadResources([{ file: 'dev.yaml', text: SERVICE }], { cluster: 'dev' });
    assert.notEqual(result.resources[0]!.id.cluster, dev.resources[0]!.id.cluster);
  });

  it('keeps the position of every field of a resource', () => {
    const r = loadResources([{ file: 'p.yaml', text: SERVICE }]).resources[0]!;
    assert.deepEqual(r.origin.positions['spec.ports[0].port'], { line: 6, col: 19 });
  });
});

describe('readSources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-load-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'b.yaml'), LANE);
  writeFileSync(join(dir, 'a.yml'), SERVICE);
  writeFileSync(join(dir, 'sub', 'c.json'), '{"apiVersion":"v1"}');
  writeFileSync(join(dir, 'notes.txt'), 'not yaml');

  it('reads directories recursively, yaml/yml/json only, in name order', async () => {
    const { sources, issues } = await readSources([dir]);
    assert.deepEqual(issues, []);
    assert.deepEqual(
      sources.map((s) => s.file.slice(dir.length + 1)),
      ['a.yml', 'b.yaml', join('sub', 'c.json')],
    );
  });

  it('reads stdin for -', async () => {
    const { sources } = await readSources(['-'], async () => LANE);
    assert.deepEqual(sources, [{ file: '<stdin>', text: LANE }]);
  });

  it('reports a missing file', async () => {
    const { issues } = await readSources([join(dir, 'nope.yaml')]);
    assert.match(formatIssue(issues[0]!), /nope\.yaml: no such file or directory/);
  });
});
