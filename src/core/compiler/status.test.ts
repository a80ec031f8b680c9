/**
 * Statuses from compile(): every cross-reference problem gives the right condition type, reason
 * and field path, a message without local file paths, and (rendered for the CLI) file:line:col. A broken lane is disabled and
 * reported; the other lanes keep working.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Resource } from '../../config/resource/resource.ts';
import {
  build,
  conditionOf,
  endpoint,
  gateway,
  laneOf,
  load,
  outbound,
  run,
  service,
  statusOf,
  virtualService,
  yaml,
} from '../engine/test-fixtures.ts';
import { describeCondition } from './status.ts';
import type { Endpoint } from './table.ts';

/** `file:line:col` of the first occurrence of `needle` (after `after`, when given). */
function where(text: string, needle: string, after = ''): string {
  const start = after === '' ? 0 : text.indexOf(after);
  assert.ok(start >= 0, `${JSON.stringify(after)} occurs in the text`);
  const at = text.indexOf(needle, start);
  assert.ok(at >= 0, `${JSON.stringify(needle)} occurs in the text`);
  const lines = text.slice(0, at).split('\n');
  return `t.yaml:${lines.length}:${(lines[lines.length - 1] ?? '').length + 1}`;
}

/** The loaded resource of `kind` `name` in `text` (for describeCondition's positions). */
function resourceOf(text: string, kind: string, name: string): Resource {
  const found = load(text).find((r) => r.kind === kind && r.metadata.name === name);
  assert.ok(found, `${kind} ${name} is in the text`);
  return found;
}

const lane = (name: string, body: readonly string[]) =>
  [
    'apiVersion: lanes.dev/v1alpha1',
    'kind: Lane',
    `metadata: { name: ${name} }`,
    'spec:',
    ...body.map((l) => `  ${l}`),
  ].join('\n');

const group = (name: string, body: readonly string[]) =>
  [
    'apiVersion: lanes.dev/v1alpha1',
    'kind: LaneGroup',
    `metadata: { name: ${name} }`,
    'spec:',
    '  routeHeader: x-lane',
    ...body.map((l) => `  ${l}`),
  ].join('\n');

const BASE = [
  service('front'),
  service('back'),
  service('other'),
  gateway('gw'),
  group('shop', ['baseline: stable', 'services: [front, back]']),
  lane('stable', ['group: shop', 'selector: { version: stable }']),
];

const ENDPOINTS: Endpoint[] = [
  endpoint('default/front', { version: 'stable' }),
  endpoint('default/front', { version: 'v2' }),
  endpoint('default/back', { version: 'stable' }),
  endpoint('default/other'),
];

interface Case {
  readonly title: string;
  /** Documents added to BASE (or replacing it when `alone`). */
  readonly docs: readonly string[];
  readonly alone?: boolean;
  readonly kind: string;
  readonly name: string;
  readonly type: 'Accepted' | 'ResolvedRefs';
  readonly reason: string;
  readonly path: string;
  /** Text the position must point at, searched after `after`. */
  readonly at: string;
  readonly after?: string;
  readonly message: RegExp;
  /** The lane this problem disables, if any. */
  readonly disables?: string;
  /** Why a request tagged with the disabled lane falls back (default `disabled`). */
  readonly fallbackReason?: string;
}

const cases: Case[] = [
  {
    title: 'a lane whose group does not exist',
    docs: [lane('v2', ['group: ghost-group', 'selector: { version: v2 }'])],
    kind: 'Lane',
    name: 'v2',
    type: 'ResolvedRefs',
    reason: 'GroupNotFound',
    path: 'spec.group',
    at: 'ghost-group',
    message: /lane group "ghost-group" does not exist/,
    disables: 'v2',
    // The lane belongs to no existing group, so to the services of shop its tag is unknown.
    fallbackReason: 'unknown-lane',
  },
  {
    title: 'a lane listing a service that is not in its group',
    docs: [lane('v2', ['group: shop', 'selector: { version: v2 }', 'services: [front, other]'])],
    kind: 'Lane',
    name: 'v2',
    type: 'ResolvedRefs',
    reason: 'ServiceNotInGroup',
    path: 'spec.services[1]',
    at: 'other]',
    after: 'name: v2',
    message: /service default\/other is not in lane group shop/,
    disables: 'v2',
  },
  {
    title: 'a lane whose fallback lane does not exist',
    docs: [lane('v2', ['group: shop', 'selector: { version: v2 }', 'fallback: [stable, ghost]'])],
    kind: 'Lane',
    name: 'v2',
    type: 'ResolvedRefs',
    reason: 'FallbackNotFound',
    path: 'spec.fallback[1]',
    at: 'ghost',
    message: /lane "ghost" is not a lane of group shop/,
    disables: 'v2',
  },
  {
    title: 'a lane whose fallback lane is in another group',
    docs: [
      group('other-group', ['services: [other]']),
      lane('o1', ['group: other-group', 'selector: { version: o1 }']),
      lane('v2', ['group: shop', 'selector: { version: v2 }', 'fallback: [o1]']),
    ],
    kind: 'Lane',
    name: 'v2',
    type: 'ResolvedRefs',
    reason: 'FallbackNotFound',
    path: 'spec.fallback[0]',
    at: 'o1]',
    message: /lane "o1" is not a lane of group shop/,
    disables: 'v2',
  },
  {
    title: 'a group whose baseline lane does not exist',
    alone: true,
    docs: [
      service('front'),
      group('shop', ['baseline: ghost', 'services: [front]']),
      lane('stable', ['group: shop', 'selector: { version: stable }']),
    ],
    kind: 'LaneGroup',
    name: 'shop',
    type: 'ResolvedRefs',
    reason: 'BaselineNotFound',
    path: 'spec.baseline',
    at: 'ghost',
    message: /baseline lane "ghost" is not a usable lane of this group/,
  },
  {
    title: 'a group whose baseline lane is disabled',
    alone: true,
    docs: [
      service('front'),
      group('shop', ['baseline: stable', 'services: [front]']),
      lane('stable', ['group: shop', 'enabled: false', 'selector: { version: stable }']),
    ],
    kind: 'LaneGroup',
    name: 'shop',
    type: 'ResolvedRefs',
    reason: 'BaselineNotFound',
    path: 'spec.baseline',
    at: 'stable',
    message: /baseline lane "stable" is not a usable lane of this group/,
  },
  {
    title: 'a service baseline lane that does not exist',
    alone: true,
    docs: [
      service('front'),
      group('shop', ['services: [{ name: front, fallback: [ghost] }]']),
      lane('stable', ['group: shop', 'selector: { version: stable }']),
    ],
    kind: 'LaneGroup',
    name: 'shop',
    type: 'ResolvedRefs',
    reason: 'BaselineNotFound',
    path: 'spec.services[0]',
    at: '{ name: front',
    after: 'kind: LaneGroup',
    message: /baseline lane "ghost" of default\/front is not a usable lane of this group/,
  },
  {
    title: 'a service baseline lane that lacks the service',
    alone: true,
    docs: [
      service('front'),
      service('back'),
      group('shop', ['services: [front, { name: back, fallback: [v2] }]']),
      lane('v2', ['group: shop', 'selector: { version: v2 }', 'services: [front]']),
    ],
    kind: 'LaneGroup',
    name: 'shop',
    type: 'ResolvedRefs',
    reason: 'BaselineLacksService',
    path: 'spec.services[1]',
    at: '{ name: back',
    after: 'kind: LaneGroup',
    message: /baseline lane v2 does not contain default\/back/,
  },
  {
    title: 'a service listed by two groups (the second by name is told)',
    docs: [group('zz-second', ['services: [other, front]'])],
    kind: 'LaneGroup',
    name: 'zz-second',
    type: 'ResolvedRefs',
    reason: 'ServiceConflict',
    path: 'spec.services[1]',
    at: 'front]',
    after: 'zz-second',
    message: /service default\/front already belongs to LaneGroup shop/,
  },
  {
    title: 'a group listing a service that does not exist',
    docs: [group('extra', ['services: [ghost-svc]'])],
    kind: 'LaneGroup',
    name: 'extra',
    type: 'ResolvedRefs',
    reason: 'ServiceNotFound',
    path: 'spec.services[0]',
    at: 'ghost-svc',
    message: /service default\/ghost-svc does not exist in any cluster yet/,
  },
  {
    title:
      'an ASM group listing a service that does not exist (told at the service, not a fallback)',
    docs: [
      [
        'apiVersion: istio.alibabacloud.com/v1',
        'kind: ASMSwimLaneGroup',
        'metadata: { name: asm-extra }',
        'spec:',
        '  isPermissive: true',
        '  permissiveModeConfiguration:',
        '    routeHeader: version',
        '    serviceLevelFallbackTarget: { default/other: asm-v1 }',
        '  services:',
        '  - { name: other, namespace: default }',
        '  - { name: ghost-asm, namespace: default }',
      ].join('\n'),
    ],
    kind: 'ASMSwimLaneGroup',
    name: 'asm-extra',
    type: 'ResolvedRefs',
    reason: 'ServiceNotFound',
    path: 'spec.services[1]',
    at: '{ name: ghost-asm',
    message: /service default\/ghost-asm does not exist in any cluster yet/,
  },
  {
    title: 'an ASM service fallback lane that does not exist (told where the fallback is set)',
    docs: [
      [
        'apiVersion: istio.alibabacloud.com/v1',
        'kind: ASMSwimLaneGroup',
        'metadata: { name: asm-extra }',
        'spec:',
        '  isPermissive: true',
        '  permissiveModeConfiguration:',
        '    routeHeader: version',
        '    serviceLevelFallbackTarget: { default/other: asm-ghost }',
        '  services:',
        '  - { name: other, namespace: default }',
      ].join('\n'),
    ],
    kind: 'ASMSwimLaneGroup',
    name: 'asm-extra',
    type: 'ResolvedRefs',
    reason: 'BaselineNotFound',
    path: 'spec.permissiveModeConfiguration.serviceLevelFallbackTarget.default/other',
    at: 'asm-ghost',
    message: /baseline lane "asm-ghost" of default\/other is not a usable lane of this group/,
  },
  {
    title: 'a group ingress naming a missing gateway',
    docs: [
      group('extra', [
        'services: [other]',
        'ingress:',
        '  - gateway: default/no-such-gw',
        '    destination: { host: other }',
      ]),
    ],
    kind: 'LaneGroup',
    name: 'extra',
    type: 'ResolvedRefs',
    reason: 'GatewayNotFound',
    path: 'spec.ingress[0].gateway',
    at: 'default/no-such-gw',
    message: /gateway default\/no-such-gw does not exist/,
  },
  {
    title: 'a VirtualService destination host that is not a service',
    docs: [
      virtualService('vs', [
        'hosts: [front]',
        'http:',
        '- route:',
        '  - destination: { host: front }',
        '    weight: 50',
        '  - destination: { host: ghost-host }',
        '    weight: 50',
      ]),
    ],
    kind: 'VirtualService',
    name: 'vs',
    type: 'ResolvedRefs',
    reason: 'BackendNotFound',
    path: 'spec.http[0].route[1].destination.host',
    at: 'ghost-host',
    message:
      /host "ghost-host" is not a known service \(services in default: back, front, other\); .*503 NO_SUCH_SERVICE/,
  },
  {
    title: 'a VirtualService subset that is neither a DestinationRule subset nor a lane',
    docs: [
      virtualService('vs', [
        'hosts: [front]',
        'http:',
        '- route: [{ destination: { host: front, subset: ghost-subset } }]',
      ]),
    ],
    kind: 'VirtualService',
    name: 'vs',
    type: 'ResolvedRefs',
    reason: 'SubsetNotFound',
    path: 'spec.http[0].route[0].destination.subset',
    at: 'ghost-subset',
    message:
      /subset "ghost-subset" of default\/front is neither .* lane group \(its subsets and lanes: stable\); .*503 NO_SUCH_SUBSET/,
  },
  {
    title: 'a VirtualService subset one typo away from a lane: the lane is suggested',
    docs: [
      virtualService('vs', [
        'hosts: [front]',
        'http:',
        '- route: [{ destination: { host: front, subset: stabel } }]',
      ]),
    ],
    kind: 'VirtualService',
    name: 'vs',
    type: 'ResolvedRefs',
    reason: 'SubsetNotFound',
    path: 'spec.http[0].route[0].destination.subset',
    at: 'stabel',
    message:
      /subset "stabel" of default\/front .* \(did you mean "stable"\?\); requests routed here/,
  },
  {
    title: 'a VirtualService host one typo away from a service: the service is suggested',
    docs: [
      virtualService('vs', [
        'hosts: [front]',
        'http:',
        '- route: [{ destination: { host: frnot } }]',
      ]),
    ],
    kind: 'VirtualService',
    name: 'vs',
    type: 'ResolvedRefs',
    reason: 'BackendNotFound',
    path: 'spec.http[0].route[0].destination.host',
    at: 'frnot',
    message: /host "frnot" is not a known service \(did you mean "front"\?\); /,
  },
  {
    title: 'a lane whose group is one typo away from a group: the group is suggested',
    docs: [lane('v2', ['group: shpo', 'selector: { version: v2 }'])],
    kind: 'Lane',
    name: 'v2',
    type: 'ResolvedRefs',
    reason: 'GroupNotFound',
    path: 'spec.group',
    at: 'shpo',
    message:
      /lane group "shpo" does not exist \(did you mean "shop"\?\); apply it or fix the name$/,
    disables: 'v2',
    fallbackReason: 'unknown-lane',
  },
  {
    title: 'a group service one typo away from a Service: the Service is suggested',
    docs: [group('extra', ['services: [othr]'])],
    kind: 'LaneGroup',
    name: 'extra',
    type: 'ResolvedRefs',
    reason: 'ServiceNotFound',
    path: 'spec.services[0]',
    at: 'othr',
    message:
      /service default\/othr does not exist in any cluster yet \(did you mean "default\/other"\?\); apply its Service, or fix the name/,
  },
  {
    title: 'a VirtualService gateway one typo away from a Gateway: the Gateway is suggested',
    docs: [
      virtualService('vs2', [
        'hosts: [front.example.com]',
        'gateways: [gww]',
        'http:',
        '- route: [{ destination: { host: front } }]',
      ]),
    ],
    kind: 'VirtualService',
    name: 'vs2',
    type: 'ResolvedRefs',
    reason: 'GatewayNotFound',
    path: 'spec.gateways[0]',
    at: 'gww',
    message:
      /gateway default\/gww does not exist \(did you mean "default\/gw"\?\); apply it, or fix the name/,
  },
  {
    title: 'a VirtualService subset naming a lane of another group',
    docs: [
      group('other-group', ['services: [other]']),
      lane('o1', ['group: other-group', 'selector: { version: o1 }']),
      virtualService('vs', [
        'hosts: [front]',
        'http:',
        '- route: [{ destination: { host: front, subset: o1 } }]',
      ]),
    ],
    kind: 'VirtualService',
    name: 'vs',
    type: 'ResolvedRefs',
    reason: 'SubsetNotFound',
    path: 'spec.http[0].route[0].destination.subset',
    at: 'o1 }',
    after: 'kind: VirtualService',
    message: /subset "o1" of default\/front/,
  },
  {
    title: 'a VirtualService bound to a missing gateway',
    docs: [
      virtualService('vs', [
        'hosts: [front.example.com]',
        'gateways: [gw, missing-gw]',
        'http:',
        '- route: [{ destination: { host: front } }]',
      ]),
    ],
    kind: 'VirtualService',
    name: 'vs',
    type: 'ResolvedRefs',
    reason: 'GatewayNotFound',
    path: 'spec.gateways[1]',
    at: 'missing-gw',
    message: /gateway default\/missing-gw does not exist/,
  },
  {
    title: 'a DestinationRule for a host that is not a service',
    docs: [
      [
        'apiVersion: networking.istio.io/v1',
        'kind: DestinationRule',
        'metadata: { name: dr, namespace: default }',
        'spec:',
        '  host: ghost-dr-host',
        '  subsets: [{ name: a, labels: { version: a } }]',
      ].join('\n'),
    ],
    kind: 'DestinationRule',
    name: 'dr',
    type: 'ResolvedRefs',
    reason: 'BackendNotFound',
    path: 'spec.host',
    at: 'ghost-dr-host',
    message: /host "ghost-dr-host" is not a known service/,
  },
  {
    title: 'a native Lane whose name an ASMSwimLane already uses',
    docs: [
      [
        'apiVersion: istio.alibabacloud.com/v1',
        'kind: ASMSwimLaneGroup',
        'metadata: { name: asm }',
        'spec:',
        '  isPermissive: true',
        '  permissiveModeConfiguration: { routeHeader: version }',
        '  services: [{ name: other, namespace: default }]',
      ].join('\n'),
      [
        'apiVersion: istio.alibabacloud.com/v1',
        'kind: ASMSwimLane',
        'metadata: { name: v2, labels: { swimlane-group: asm } }',
        'spec:',
        '  labelSelector: { version: v2 }',
        '  services: [{ name: other, namespace: default }]',
      ].join('\n'),
      lane('v2', ['group: shop', 'selector: { version: v2 }']),
    ],
    kind: 'Lane',
    name: 'v2',
    type: 'Accepted',
    reason: 'Conflicted',
    path: 'metadata.name',
    at: 'v2 }',
    after: 'metadata: { name: v2 }',
    message: /the lane name v2 is already used by ASMSwimLane v2; lane names are tags/,
  },
  {
    title: 'weighted entry rules at one gateway host that add up to more than 100 %',
    alone: true,
    docs: [
      service('front'),
      gateway('gw'),
      group('shop', [
        'services: [front]',
        'ingress: [{ gateway: default/gw, hosts: [shop.example.com], destination: { host: front } }]',
      ]),
      lane('a-sixty', ['group: shop', 'selector: { version: a }', 'entry: [{ weight: 60 }]']),
      lane('b-fifty', ['group: shop', 'selector: { version: b }', 'entry: [{ weight: 50 }]']),
    ],
    kind: 'Lane',
    name: 'b-fifty',
    type: 'ResolvedRefs',
    reason: 'WeightsExceed100',
    path: 'spec.entry[0]',
    at: '{ weight: 50 }',
    message: /add up to more than 100 %; this rule gets the 40 % that is left/,
  },
];

describe('cross-reference problems become status conditions', () => {
  for (const c of cases) {
    const text = yaml(...(c.alone ? [] : BASE), ...c.docs);
    const { statuses, table } = build(text, ENDPOINTS);

    test(`${c.title}: ${c.type}=False, reason ${c.reason}`, () => {
      const cond = conditionOf(statuses, c.kind, c.name, c.type);
      assert.equal(cond.status, 'False', cond.message);
      assert.equal(cond.reason, c.reason, cond.message);
    });

    test(`${c.title}: the condition names ${c.path}, and only the CLI's rendering adds file:line:col`, () => {
      const cond = conditionOf(statuses, c.kind, c.name, c.type);
      assert.equal(cond.fieldPath, c.path);
      assert.equal(cond.details[0]?.reason, c.reason);
      assert.ok(cond.message.startsWith(`${c.path}: `), cond.message);
      assert.doesNotMatch(cond.message, /t\.yaml/, 'no local file path in status text');
      assert.match(cond.message, c.message);
      const described = describeCondition(resourceOf(text, c.kind, c.name), cond);
      const prefix = `${where(text, c.at, c.after ?? '')} ${c.path}: `;
      assert.ok(
        described.startsWith(prefix),
        `${JSON.stringify(described)} starts with ${JSON.stringify(prefix)}`,
      );
    });

    if (c.disables !== undefined) {
      const name = c.disables;
      test(`${c.title}: the lane is disabled (Accepted=False, Disabled) and says why`, () => {
        const accepted = conditionOf(statuses, c.kind, c.name, 'Accepted');
        assert.equal(accepted.status, 'False');
        assert.equal(accepted.reason, 'Disabled');
        assert.match(accepted.message, new RegExp(`lane ${name} is disabled because`));
        const compiled = table.lanes[name];
        assert.equal(compiled?.enabled, false);
        assert.ok(compiled?.disabledReason);
      });

      test(`${c.title}: the other lanes of the group keep working`, () => {
        const accepted = conditionOf(statuses, 'Lane', 'stable', 'Accepted');
        assert.equal(accepted.status, 'True');
        assert.equal(table.lanes.stable?.enabled, true);
        const d = run(table, outbound(), { authority: 'front', headers: { 'x-lane': name } });
        assert.equal(laneOf(d), 'stable');
        const f = d.kind === 'forward' ? d.fallback : [];
        assert.deepEqual(f, [{ lane: name, reason: c.fallbackReason ?? 'disabled' }]);
      });
    }
  }

  test('a resource without problems has Accepted=True and ResolvedRefs=True', () => {
    const { statuses } = build(yaml(...BASE), ENDPOINTS);
    for (const s of statuses) {
      assert.deepEqual(
        s.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
        ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'],
        s.id.name,
      );
    }
  });

  test('a per-match gateways entry naming a missing gateway is GatewayNotFound', {}, () => {
    const text = yaml(
      service('front'),
      gateway('gw'),
      virtualService('vs', [
        'hosts: [front]',
        'gateways: [gw, mesh]',
        'http:',
        '- match: [{ gateways: [missing-gw] }]',
        '  route: [{ destination: { host: front } }]',
      ]),
    );
    const cond = conditionOf(build(text, []).statuses, 'VirtualService', 'vs', 'ResolvedRefs');
    assert.equal(cond.reason, 'GatewayNotFound');
    assert.equal(cond.fieldPath, 'spec.http[0].match[0].gateways[0]');
    assert.ok(
      describeCondition(resourceOf(text, 'VirtualService', 'vs'), cond).startsWith(
        `${where(text, 'missing-gw')} spec.http[0].match[0].gateways[0]: `,
      ),
    );
  });

  test('the first problem names the reason and every problem is in the message', () => {
    const text = yaml(
      ...BASE,
      lane('v2', [
        'group: shop',
        'selector: { version: v2 }',
        'services: [other, ghost-b]',
        'fallback: [ghost-c]',
      ]),
    );
    const cond = conditionOf(build(text, ENDPOINTS).statuses, 'Lane', 'v2', 'ResolvedRefs');
    assert.equal(cond.reason, 'ServiceNotInGroup');
    assert.deepEqual(
      cond.details.map((d) => `${d.reason} ${d.fieldPath}`),
      ['ServiceNotInGroup spec.services[0]', 'ServiceNotInGroup spec.services[1]'],
    );
    assert.equal(
      describeCondition(resourceOf(text, 'Lane', 'v2'), cond)
        .split('; ')
        .filter((m) => /^t\.yaml:\d+:\d+ /.test(m)).length,
      2,
      cond.message,
    );
    assert.match(cond.message, /spec\.services\[0\]: service default\/other/);
    assert.match(cond.message, /spec\.services\[1\]: service default\/ghost-b/);
  });

  test('a disabled lane (enabled: false) is accepted and not reported as broken', () => {
    const text = yaml(
      ...BASE,
      lane('v2', ['group: shop', 'enabled: false', 'selector: { version: v2 }']),
    );
    const { statuses, table } = build(text, ENDPOINTS);
    assert.equal(conditionOf(statuses, 'Lane', 'v2', 'Accepted').status, 'True');
    assert.equal(conditionOf(statuses, 'Lane', 'v2', 'ResolvedRefs').status, 'True');
    assert.equal(table.lanes.v2?.enabled, false);
    assert.equal(table.lanes.v2?.disabledReason, 'it is disabled (spec.enabled: false)');
  });
});

describe('warnings are notes, not failed conditions', () => {
  test('a lane of a strict group that lacks services gets a LANE_STRICT_MISS warning', () => {
    const text = yaml(
      service('front'),
      service('back'),
      group('shop', ['mode: strict', 'services: [front, back]']),
      lane('v2', ['group: shop', 'selector: { version: v2 }', 'services: [front]']),
      lane('full', ['group: shop', 'selector: { version: full }']),
    );
    const { statuses } = build(text, []);
    const notes = statusOf(statuses, 'Lane', 'v2').notes;
    assert.equal(notes.length, 1);
    const note = notes[0]!;
    assert.equal(note.severity, 'warning');
    assert.equal(note.path, 'spec.services');
    assert.equal(`t.yaml:${note.line}:${note.col}`, where(text, '[front]', 'name: v2'));
    assert.match(note.message, /lacks default\/back: .*LANE_STRICT_MISS/);
    assert.equal(conditionOf(statuses, 'Lane', 'v2', 'Accepted').status, 'True');
    assert.deepEqual(statusOf(statuses, 'Lane', 'full').notes, []);
  });

  test('a lane without a services list in a strict group gets no warning (it has them all)', () => {
    const text = yaml(
      service('front'),
      group('shop', ['mode: strict', 'services: [front]']),
      lane('v2', ['group: shop', 'selector: { version: v2 }']),
    );
    assert.deepEqual(statusOf(build(text, []).statuses, 'Lane', 'v2').notes, []);
  });

  test('a second mesh VirtualService for one host is warned about at spec.hosts', () => {
    const text = yaml(
      service('front'),
      virtualService('a-first', [
        'hosts: [front]',
        'http:',
        '- route: [{ destination: { host: front } }]',
      ]),
      virtualService('b-second', [
        'hosts: [front.default.svc.cluster.local]',
        'http:',
        '- route: [{ destination: { host: front } }]',
      ]),
    );
    const { statuses } = build(text, []);
    assert.deepEqual(statusOf(statuses, 'VirtualService', 'a-first').notes, []);
    const notes = statusOf(statuses, 'VirtualService', 'b-second').notes;
    assert.equal(notes.length, 1);
    assert.equal(notes[0]?.path, 'spec.hosts');
    assert.match(
      notes[0]?.message ?? '',
      /VirtualService default\/a-first already routes default\/front/,
    );
  });

  test('a DestinationRule subset defined twice is ignored with a warning on the later rule', () => {
    const dr = (name: string, labels: string) =>
      [
        'apiVersion: networking.istio.io/v1',
        'kind: DestinationRule',
        `metadata: { name: ${name}, namespace: default }`,
        'spec:',
        '  host: front',
        `  subsets: [{ name: s1, labels: { version: ${labels} } }]`,
      ].join('\n');
    const { statuses, table } = build(yaml(service('front'), dr('a', 'one'), dr('b', 'two')), []);
    assert.deepEqual(statusOf(statuses, 'DestinationRule', 'a').notes, []);
    const notes = statusOf(statuses, 'DestinationRule', 'b').notes;
    assert.equal(notes[0]?.path, 'spec.subsets[0]');
    assert.match(notes[0]?.message ?? '', /already defined by DestinationRule default\/a/);
    assert.equal(table.services['default/front']?.subsets.s1?.labels.version, 'one');
  });
});
