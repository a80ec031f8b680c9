import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KINDS } from '../../config/kinds/registry.ts';
import {
  KIND_TABLE,
  qualifiedName,
  qualifiedPlural,
  resolveKind,
  unknownKindMessage,
} from './kinds.ts';

describe('resolveKind', () => {
  const cases: [string, string | undefined][] = [
    ['deployment', 'Deployment'],
    ['deployments', 'Deployment'],
    ['deploy', 'Deployment'],
    ['Deployment', 'Deployment'],
    ['DEPLOY', 'Deployment'],
    ['deployments.apps', 'Deployment'],
    ['deployment.apps', 'Deployment'],
    ['deployments.v1.apps', 'Deployment'],
    ['service', 'Service'],
    ['services', 'Service'],
    ['svc', 'Service'],
    ['virtualservice', 'VirtualService'],
    ['VirtualServices', 'VirtualService'],
    ['vs', 'VirtualService'],
    ['virtualservices.networking.istio.io', 'VirtualService'],
    ['virtualservices.v1beta1.networking.istio.io', 'VirtualService'],
    ['destinationrule', 'DestinationRule'],
    ['dr', 'DestinationRule'],
    ['gateway', 'Gateway'],
    ['gw', 'Gateway'],
    ['gateways.networking.istio.io', 'Gateway'],
    ['asmswimlanegroup', 'ASMSwimLaneGroup'],
    ['ASMSwimLaneGroups', 'ASMSwimLaneGroup'],
    ['asmswimlane', 'ASMSwimLane'],
    ['asmswimlanes.istio.alibabacloud.com', 'ASMSwimLane'],
    ['lanegroup', 'LaneGroup'],
    ['lanegroups.lanes.dev', 'LaneGroup'],
    ['lane', 'Lane'],
    ['lanes', 'Lane'],
    ['mesh', 'Mesh'],
    ['meshes', 'Mesh'],
    ['instrumentation', 'Instrumentation'],
    ['otelinst', 'Instrumentation'],
    // Wrong group, short name with a group, unknown words.
    ['deployments.extensions', undefined],
    ['gateways.gateway.networking.k8s.io', undefined],
    ['deploy.apps', undefined],
    ['pods', undefined],
    ['', undefined],
  ];
  for (const [text, kind] of cases) {
    test(`${JSON.stringify(text)} → ${kind ?? 'unknown'}`, () => {
      assert.equal(resolveKind(text)?.kind, kind);
    });
  }

  test('the table lists exactly the kinds the registry accepts, with their scope and placement', () => {
    const fromRegistry = KINDS.map((k) => ({
      kind: k.kind,
      group: k.group,
      namespaced: k.scope === 'Namespaced',
      placement: k.placement,
    })).sort((a, b) => a.kind.localeCompare(b.kind));
    const fromTable = KIND_TABLE.map((k) => ({
      kind: k.kind,
      group: k.group,
      namespaced: k.namespaced,
      placement: k.placement,
    })).sort((a, b) => a.kind.localeCompare(b.kind));
    assert.deepEqual(fromTable, fromRegistry);
  });

  test('no alias names two kinds', () => {
    const seen = new Map<string, string>();
    for (const k of KIND_TABLE) {
      for (const name of [k.kind.toLowerCase(), k.plural, ...k.short]) {
        assert.equal(seen.get(name) ?? k.kind, k.kind, `${name} is ambiguous`);
        seen.set(name, k.kind);
      }
    }
  });

  test('kubectl-style qualified names', () => {
    assert.equal(qualifiedName(resolveKind('deploy')!), 'deployment.apps');
    assert.equal(qualifiedName(resolveKind('svc')!), 'service');
    assert.equal(qualifiedName(resolveKind('asmswimlane')!), 'asmswimlane.istio.alibabacloud.com');
    assert.equal(qualifiedPlural(resolveKind('vs')!), 'virtualservices.networking.istio.io');
    assert.equal(qualifiedPlural(resolveKind('svc')!), 'services');
  });

  test('unknown kinds get a suggestion and the list', () => {
    assert.equal(
      unknownKindMessage('deploymnt'),
      'unknown resource type "deploymnt" (did you mean "deployment"?); known types: deployment (deploy), service (svc), gateway (gw), virtualservice (vs), destinationrule (dr), asmswimlanegroup, asmswimlane, lanegroup, lane, mesh, release (rel), instrumentation (otelinst, otelinsts)',
    );
    assert.match(unknownKindMessage('asmswimlan'), /did you mean "asmswimlane"\?/);
    assert.match(unknownKindMessage('pods'), /^unknown resource type "pods"; known types: /);
  });
});
