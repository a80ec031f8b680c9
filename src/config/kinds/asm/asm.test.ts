import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { STORY_DIR, storyCopies } from '../../../../scripts/story.ts';
import { loadResources } from '../../load/resources.ts';
import { formatIssue } from '../../source/issues.ts';
import type { AsmSwimLaneGroupSpec } from './swim-lane-group.ts';

function load(text: string) {
  const result = loadResources([{ file: 'a.yaml', text }]);
  return {
    ...result,
    errors: result.issues.filter((i) => i.severity === 'error').map(formatIssue),
  };
}

describe('ASM kinds', () => {
  for (const copy of storyCopies()) {
    if ('skip' in copy) {
      it(`accepts every file of ${copy.name} unchanged`, { skip: copy.skip }, () => {});
      continue;
    }
    for (const file of readdirSync(copy.dir).filter((f) => f.endsWith('.yaml'))) {
      it(`accepts ${file} of ${copy.name} unchanged`, () => {
        const text = readFileSync(join(copy.dir, file), 'utf8');
        const result = loadResources([{ file, text }]);
        assert.deepEqual(result.issues.filter((i) => i.severity === 'error').map(formatIssue), []);
      });
    }
  }

  it('reads the story group: permissive, route header version, baggage, per-service baselines', () => {
    const result = loadResources([
      {
        file: 'g.yaml',
        text: readFileSync(join(STORY_DIR, 'swimlane-v1-baseline-v2.yaml'), 'utf8'),
      },
    ]);
    const group = result.resources.find((r) => r.kind === 'ASMSwimLaneGroup')!;
    const spec = group.spec as AsmSwimLaneGroupSpec;
    assert.equal(spec.isPermissive, true);
    assert.equal(spec.routeHeader, 'version');
    assert.equal(spec.traceHeader, 'baggage');
    assert.deepEqual(spec.serviceLevelFallback, {
      'default/mocka': 'v2',
      'default/mockb': 'v1',
      'default/mockc': 'v2',
    });
  });

  it("reports a service's cluster as ignored, at its position: lanes merges services across clusters", () => {
    const text = [
      'apiVersion: istio.alibabacloud.com/v1',
      'kind: ASMSwimLaneGroup',
      'metadata: {name: mock}',
      'spec:',
      '  services:',
      '  - name: mocka',
      '    namespace: default',
      '    cluster: {id: c0123}',
      '',
    ].join('\n');
    const result = loadResources([{ file: 'g.yaml', text }]);
    assert.ok(result.ok, result.issues.map(formatIssue).join('\n'));
    const ignored = result.issues.filter((i) => i.severity === 'ignored');
    assert.deepEqual(
      ignored.map((i) => [i.path, i.line]),
      [['spec.services[0].cluster', 8]],
    );
  });

  const rejected: [string, string, RegExp][] = [
    [
      'a lane without its group label',
      'apiVersion: istio.alibabacloud.com/v1\nkind: ASMSwimLane\nmetadata: {name: v1}\nspec: {labelSelector: {version: v1}}\n',
      /joins its group through the label swimlane-group/,
    ],
    [
      'permissive mode without its configuration',
      'apiVersion: istio.alibabacloud.com/v1\nkind: ASMSwimLaneGroup\nmetadata: {name: g}\nspec: {services: [{name: a}], isPermissive: true}\n',
      /permissiveModeConfiguration is required when isPermissive is true/,
    ],
    [
      'a per-service fallback for a service outside the group',
      'apiVersion: istio.alibabacloud.com/v1\nkind: ASMSwimLaneGroup\nmetadata: {name: g}\nspec:\n  services: [{name: a, namespace: default}]\n  isPermissive: true\n  permissiveModeConfiguration: {routeHeader: version, serviceLevelFallbackTarget: {default/b: v1}}\n',
      /"default\/b": not a service of this group \(services: default\/a\)/,
    ],
    [
      'both spellings of the per-service fallback',
      'apiVersion: istio.alibabacloud.com/v1\nkind: ASMSwimLaneGroup\nmetadata: {name: g}\nspec:\n  services: [{name: a, namespace: default}]\n  isPermissive: true\n  permissiveModeConfiguration: {routeHeader: version, serviceLevelFallback: {}, serviceLevelFallbackTarget: {}}\n',
      /two spellings of one field/,
    ],
    [
      'a patch field',
      'apiVersion: istio.alibabacloud.com/v1\nkind: ASMSwimLaneGroup\nmetadata: {name: g}\nspec:\n  services: [{name: a, trafficPolicyPatch: {}}]\n',
      /trafficPolicyPatch: not supported by lanes yet/,
    ],
    [
      'a StringMatch with two match types',
      'apiVersion: istio.alibabacloud.com/v1\nkind: ASMSwimLane\nmetadata: {name: v1, labels: {swimlane-group: g}}\nspec:\n  labelSelector: {version: v1}\n  ingressRules: [{hosts: ["*"], match: {uri: {exact: /a, prefix: /}}, route: {destination: {host: a}}}]\n',
      /only one of "exact", "prefix", "regex" may be set/,
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
});
