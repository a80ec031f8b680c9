import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadResources } from '../../load/resources.ts';
import { formatIssue } from '../../source/issues.ts';
import type { AsmSwimLaneGroupSpec } from './swim-lane-group.ts';

const STORY = new URL('../../../../../shared/examples/asm-lanes/', import.meta.url);

function load(text: string) {
  const result = loadResources([{ file: 'a.yaml', text }]);
  return {
    ...result,
    errors: result.issues.filter((i) => i.severity === 'error').map(formatIssue),
  };
}

describe('ASM kinds', () => {
  for (const file of readdirSync(STORY).filter((f) => f.endsWith('.yaml'))) {
    it(`accepts ${file} from the reference story unchanged`, () => {
      const result = loadResources([{ file, text: readFileSync(new URL(file, STORY), 'utf8') }]);
      assert.deepEqual(result.issues.filter((i) => i.severity === 'error').map(formatIssue), []);
    });
  }

  it('reads the story group: permissive, route header version, baggage, per-service baselines', () => {
    const result = loadResources([
      {
        file: 'g.yaml',
        text: readFileSync(new URL('swimlane-v1-baseline-v2.yaml', STORY), 'utf8'),
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
    assert.ok(
      result.issues.some((i) => i.severity === 'ignored' && i.path === 'spec.services[0].cluster'),
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
