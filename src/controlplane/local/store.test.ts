import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { STORY_DIR, STORY_STEP_1 } from '../../../scripts/story.ts';
import { positionOf, type Resource, resourceKey } from '../../config/resource/resource.ts';
import type { DeleteTarget, SourceText } from './protocol.ts';
import { RequestError } from './request-error.ts';
import { StateDir, StateError } from './state/state.ts';
import { describe as label, ResourceStore } from './store.ts';

/** A file of the reference story, as the CLI sends it (absolute path, whole text). */
function example(name: string): SourceText {
  const file = join(STORY_DIR, name);
  return { file, text: readFileSync(file, 'utf8') };
}
const examplePath = (name: string) => join(STORY_DIR, name);

/** The 1-based line of the first line of `text` matching `pattern` after the one matching `after`. */
function lineOf(text: string, pattern: RegExp, after?: RegExp): number {
  const lines = text.split('\n');
  const start = after ? lines.findIndex((l) => after.test(l)) : 0;
  assert.ok(start >= 0, `no line matches ${after}`);
  const i = lines.findIndex((l, n) => n >= start && pattern.test(l));
  assert.ok(i >= 0, `no line matches ${pattern}`);
  return i + 1;
}

/**
 * The story's mock.yaml with an `imagePullPolicy` under every `image:`, as the published
 * walkthrough writes it: a field local mode accepts and reports as ignored. Written beside the
 * test's state so the CLI-style absolute path is real.
 */
function withPullPolicy(): SourceText {
  const text = readFileSync(examplePath('mock.yaml'), 'utf8').replace(
    /^( *)(- )?image: (.*)$/gm,
    (line, indent: string, dash: string | undefined) =>
      `${line}\n${indent}${dash ? '  ' : ''}imagePullPolicy: IfNotPresent`,
  );
  const file = join(root, 'mock-with-pull-policy.yaml');
  writeFileSync(file, text);
  return { file, text };
}

/** Where each `imagePullPolicy` of withPullPolicy() is, `line:col`, in file order. */
function pullPolicyPositions(text: string): string[] {
  return text.split('\n').flatMap((l, i) => {
    const m = /^( *)imagePullPolicy:/.exec(l);
    return m ? [`${i + 1}:${m[1]!.length + 1}`] : [];
  });
}

const DEV = ['dev-services.yaml', 'caros-dev.yaml'];

function deployment(name: string, container: string, namespace = 'default'): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
${container}`;
}
const mockContainer = '      - name: app\n        image: asm-mock\n';

let root: string;
let counter = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'lanes-store-test-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

function fresh(): { state: StateDir; store: ResourceStore } {
  const state = StateDir.open(join(root, `case-${++counter}`));
  const store = new ResourceStore(state);
  store.restore();
  return { state, store };
}

/** A second store on the same state directory, as after a daemon restart. */
function restoredStore(state: StateDir): ResourceStore {
  const store = new ResourceStore(state);
  store.restore();
  return store;
}

/** A store with the story's step 1 in the default cluster and its dev files in cluster `dev`. */
function story(): { state: StateDir; store: ResourceStore } {
  const s = fresh();
  s.store.apply(STORY_STEP_1.map(example), undefined);
  s.store.apply(DEV.map(example), 'dev');
  return s;
}

const keys = (store: ResourceStore) =>
  store
    .resources()
    .map((r) => resourceKey(r.id))
    .sort();
const resourcesJson = (state: StateDir) => readFileSync(join(state.dir, 'resources.json'), 'utf8');
const labels = (store: ResourceStore) => store.resources().map(label).sort();

function rejects(fn: () => unknown, status: number): RequestError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof RequestError, `expected a RequestError, got ${String(caught)}`);
  assert.equal(caught.status, status, caught.message);
  return caught;
}

describe('ResourceStore.apply', () => {
  test('the story step 1 creates every resource and persists one document per resource', () => {
    const { state, store } = fresh();
    const { results } = store.apply(STORY_STEP_1.map(example), undefined);
    assert.deepEqual(results, [
      { resource: 'Gateway istio-system/ingressgateway', action: 'created' },
      { resource: 'Gateway istio-system/ingressgateway-dev', action: 'created' },
      { resource: 'Instrumentation default/demo-instrumentation', action: 'created' },
      { resource: 'Service default/mocka', action: 'created' },
      { resource: 'Deployment default/mocka-v1', action: 'created' },
      { resource: 'Service default/mockb', action: 'created' },
      { resource: 'Deployment default/mockb-v1', action: 'created' },
      { resource: 'Service default/mockc', action: 'created' },
      { resource: 'Deployment default/mockc-v1', action: 'created' },
      { resource: 'ASMSwimLaneGroup mock', action: 'created' },
      { resource: 'ASMSwimLane v1', action: 'created' },
      { resource: 'VirtualService istio-system/swimlane-ingress-vs', action: 'created' },
    ]);
    const docs = state.readDocuments();
    assert.equal(docs.length, 12);
    const mocka = docs.find((d) => d.text.includes('name: mocka-v1'))!;
    assert.equal(mocka.file, examplePath('mock.yaml'));
    assert.equal(
      mocka.line,
      lineOf(example('mock.yaml').text, /^apiVersion: apps\/v1$/, /^# mocka v1/),
    );
    assert.equal(mocka.cluster, 'default');
    assert.ok(mocka.text.startsWith('apiVersion: apps/v1\nkind: Deployment\n'), mocka.text);
    assert.ok(!mocka.text.includes('---'), mocka.text);
  });

  test('notes (ignored fields) come back with file:line:col and are not errors', () => {
    const { store } = fresh();
    const mock = withPullPolicy();
    const { notes } = store.apply([mock], undefined);
    const positions = pullPolicyPositions(mock.text);
    assert.equal(positions.length, 3);
    assert.deepEqual(
      notes.map((n) => `${n.line}:${n.col} ${n.path} ${n.severity}`),
      positions.map((p) => `${p} spec.template.spec.containers[0].imagePullPolicy ignored`),
    );
    assert.ok(notes.every((n) => n.file === mock.file));
  });

  const again: {
    title: string;
    file?: string;
    second: (text: string) => string;
    action: string;
  }[] = [
    {
      title: 'the same text again is unchanged',
      file: 'a.yaml',
      second: (t) => t,
      action: 'unchanged',
    },
    {
      title: 'the same text from another file is unchanged',
      second: (t) => t,
      action: 'unchanged',
    },
    {
      title: 'a changed field is configured',
      second: (t) => t.replace('replicas: 1', 'replicas: 2'),
      action: 'configured',
    },
    {
      title: 'a changed comment inside the document is configured (the stored text changes)',
      second: (t) => t.replace('spec:\n', 'spec: # scaled by hand\n'),
      action: 'configured',
    },
    {
      title: 'a comment after the document is unchanged (it is not part of the document)',
      second: (t) => `${t}# more\n`,
      action: 'unchanged',
    },
  ];
  for (const c of again) {
    test(`re-applying a document: ${c.title}`, () => {
      const { state, store } = fresh();
      const text = deployment('web', `${mockContainer}`).replace(
        'spec:\n',
        'spec:\n  replicas: 1\n',
      );
      store.apply([{ file: 'a.yaml', text }], undefined);
      const file = c.file ?? 'b.yaml';
      const { results } = store.apply([{ file, text: c.second(text) }], undefined);
      assert.deepEqual(results, [{ resource: 'Deployment default/web', action: c.action }]);
      assert.equal(store.resources().length, 1);
      assert.equal(state.readDocuments()[0]!.text, c.second(text).replace(/# more\n$/, ''));
      assert.equal(state.readDocuments()[0]!.file, file);
    });
  }

  test('re-applying the whole story step 1 reports every resource unchanged', () => {
    const { store } = fresh();
    store.apply(STORY_STEP_1.map(example), undefined);
    const { results } = store.apply(STORY_STEP_1.map(example), undefined);
    assert.equal(results.length, 12);
    assert.ok(
      results.every((r) => r.action === 'unchanged'),
      JSON.stringify(results),
    );
  });

  const runnable: { title: string; container: string }[] = [
    { title: 'the bare asm-mock image', container: '      - name: a\n        image: asm-mock\n' },
    {
      title: 'the published asm-mock image',
      container:
        '      - name: a\n        image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java\n',
    },
    {
      title: 'any image with a command',
      container:
        '      - name: a\n        image: nginx:1.27\n        command: ["node", "server.js"]\n',
    },
    {
      title: 'the asm-mock image and an empty command (the image’s own, as in Kubernetes)',
      container: '      - name: a\n        image: asm-mock\n        command: []\n',
    },
  ];
  for (const c of runnable) {
    test(`a Deployment with ${c.title} is accepted`, () => {
      const { store } = fresh();
      const { results } = store.apply(
        [{ file: 'a.yaml', text: deployment('web', c.container) }],
        undefined,
      );
      assert.deepEqual(results, [{ resource: 'Deployment default/web', action: 'created' }]);
    });
  }

  const VALID =
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: good\nspec:\n  ports:\n  - port: 80\n';
  const rejected: { title: string; bad: string; issue: RegExp }[] = [
    {
      title: 'a field of the wrong type',
      bad: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: eighty\n',
      issue: /^bad\.yaml:7:11: Service default\/s: spec\.ports\[0\]\.port: .*integer/,
    },
    {
      title: 'a Deployment whose image cannot run locally',
      bad: deployment('web', '      - name: a\n        image: nginx:1.27\n'),
      issue:
        /^bad\.yaml:14:9: Deployment default\/web: spec\.template\.spec\.containers\[0\]: image "nginx:1\.27" cannot run locally: .*add command: \[\.\.\.\]/,
    },
    {
      title: 'a Deployment whose container has neither an image nor a command',
      bad: deployment('web', '      - name: a\n'),
      issue:
        /^bad\.yaml:14:9: Deployment default\/web: spec\.template\.spec\.containers\[0\]: has neither an image nor a command; add command: \[\.\.\.\]/,
    },
    {
      title: 'a Deployment whose command names no program',
      bad: deployment(
        'web',
        '      - name: a\n        image: nginx:1.27\n        command: ["", "server.js"]\n',
      ),
      issue:
        /^bad\.yaml:14:9: Deployment default\/web: spec\.template\.spec\.containers\[0\]: command\[0\] is empty; it must name the program/,
    },
    {
      title: 'a Deployment with an empty command and an image that cannot run locally',
      bad: deployment('web', '      - name: a\n        image: nginx:1.27\n        command: []\n'),
      issue: /^bad\.yaml:14:9: .*image "nginx:1\.27" cannot run locally/,
    },
    {
      title: 'a Deployment with two containers',
      bad: deployment('web', `${mockContainer}${mockContainer.replace('app', 'b')}`),
      issue:
        /^bad\.yaml:14:7: Deployment default\/web: spec\.template\.spec\.containers: .*one container per instance/,
    },
    {
      title: 'malformed YAML',
      bad: 'apiVersion: v1\nkind: Service\nmetadata: {name: [\n',
      issue: /^bad\.yaml:\d+:\d+: malformed YAML/,
    },
    {
      title: 'an unknown kind',
      bad: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n',
      issue: /^bad\.yaml:2:\d+: .*Pod/,
    },
  ];
  for (const c of rejected) {
    test(`an apply with one valid document and ${c.title} is rejected (400) and changes nothing`, () => {
      const { state, store } = story();
      const before = { keys: keys(store), json: resourcesJson(state) };
      const error = rejects(
        () =>
          store.apply(
            [
              { file: 'good.yaml', text: VALID },
              { file: 'bad.yaml', text: c.bad },
            ],
            undefined,
          ),
        400,
      );
      assert.match(error.message, /^the apply was rejected: \d+ errors?; nothing was applied$/);
      assert.match(error.issues[0]!, c.issue);
      for (const issue of error.issues) assert.match(issue, /^bad\.yaml:\d+:\d+: /);
      assert.deepEqual(keys(store), before.keys);
      assert.equal(resourcesJson(state), before.json);
      assert.deepEqual(keys(restoredStore(state)), before.keys);
    });
  }

  test('a document defined twice in one apply is rejected, pointing at the first definition', () => {
    const { store } = fresh();
    const text = deployment('web', mockContainer);
    const error = rejects(
      () =>
        store.apply(
          [
            { file: 'a.yaml', text },
            { file: 'b.yaml', text },
          ],
          undefined,
        ),
      400,
    );
    assert.match(
      error.issues[0]!,
      /^b\.yaml:1:1: .*defined twice in one apply; the first definition is at a\.yaml:1:1/,
    );
    assert.deepEqual(store.resources(), []);
  });

  test('every error of an apply is reported, not only the first', () => {
    const { store } = fresh();
    const error = rejects(
      () =>
        store.apply(
          [
            { file: 'a.yaml', text: deployment('one', '      - name: a\n        image: nginx\n') },
            { file: 'b.yaml', text: deployment('two', '      - name: a\n        image: redis\n') },
          ],
          undefined,
        ),
      400,
    );
    assert.match(error.message, /2 errors; nothing was applied/);
    assert.deepEqual(
      error.issues.map((i) => i.split(':').slice(0, 2).join(':')),
      ['a.yaml:14', 'b.yaml:14'],
    );
  });

  const emptySources: { title: string; text: string }[] = [
    { title: 'an empty file', text: '' },
    { title: 'only comments and document separators', text: '# nothing yet\n---\n---\n' },
  ];
  for (const c of emptySources) {
    test(`an apply of ${c.title} is rejected (400), saying there is no resource in it`, () => {
      const { store } = fresh();
      const error = rejects(() => store.apply([{ file: 'a.yaml', text: c.text }], undefined), 400);
      assert.equal(
        error.message,
        'no resources in a.yaml: it is empty or only comments; check the path; nothing was applied',
      );
    });
  }

  const badClusters: { title: string; cluster: string }[] = [
    { title: 'an empty name, which would place workloads nowhere', cluster: '' },
    { title: 'a path, which would put log files outside the state directory', cluster: '../../x' },
    { title: 'a name with a slash', cluster: 'dev/x' },
    { title: 'an upper-case name', cluster: 'Dev' },
    { title: 'a name over 63 characters', cluster: 'a'.repeat(64) },
  ];
  for (const c of badClusters) {
    test(`a cluster given as ${c.title} is rejected (400) and nothing is applied`, () => {
      const { store } = fresh();
      const error = rejects(() => store.apply([{ file: 'a.yaml', text: VALID }], c.cluster), 400);
      assert.match(error.message, /^cluster ".*" is not a valid name: use lowercase letters/);
      assert.deepEqual(store.resources(), []);
    });
  }
});

describe('ResourceStore.restore', () => {
  test('an empty state directory restores to no resources', () => {
    assert.deepEqual(fresh().store.resources(), []);
  });

  test('restores the same resources, with the same clusters, specs and document texts', () => {
    const { state, store } = story();
    const restored = restoredStore(state);
    assert.deepEqual(keys(restored), keys(store));
    for (const r of store.resources()) {
      const again = restored.resources().find((x) => resourceKey(x.id) === resourceKey(r.id))!;
      assert.deepEqual(again.spec, r.spec, resourceKey(r.id));
      assert.deepEqual(again.metadata, r.metadata, resourceKey(r.id));
      assert.deepEqual(restored.document(again), store.document(r));
    }
  });

  test('restored resources keep their source positions: file, line, col of every field', () => {
    const { state, store } = story();
    const restored = restoredStore(state);
    const byKey = (s: ResourceStore) =>
      new Map(s.resources().map((r): [string, Resource] => [resourceKey(r.id), r]));
    const after = byKey(restored);
    for (const [key, r] of byKey(store)) {
      const again = after.get(key)!;
      assert.equal(again.origin.file, r.origin.file, key);
      assert.equal(again.origin.line, r.origin.line, key);
      assert.equal(again.origin.col, r.origin.col, key);
      assert.deepEqual(again.origin.positions, r.origin.positions, key);
    }
    const mockc = [...after.values()].find((r) => r.metadata.name === 'mockc-v1')!;
    assert.equal(mockc.origin.file, examplePath('mock.yaml'));
    const text = example('mock.yaml').text;
    const line = lineOf(text, /^\s+image: /, /name: mockc-v1/);
    assert.deepEqual(positionOf(mockc, 'spec.template.spec.containers[0].image'), {
      line,
      col: (text.split('\n')[line - 1] ?? '').indexOf('image: ') + 'image: '.length + 1,
    });
  });

  test('notes of a restored document keep the original file:line:col', () => {
    const { state, store } = fresh();
    const mock = withPullPolicy();
    store.apply([mock], undefined);
    const restored = restoredStore(state);
    const notes = restored
      .resources()
      .filter((r) => r.kind === 'Deployment')
      .flatMap((r) => r.notes.map((n) => `${n.file}:${n.line}:${n.col}: ${n.resource}`));
    assert.deepEqual(
      notes,
      pullPolicyPositions(mock.text).map(
        (p, i) => `${mock.file}:${p}: Deployment default/mock${'abc'[i]}-v1`,
      ),
    );
  });

  test('after a restore, applying the same files again is unchanged', () => {
    const { state } = story();
    const restored = restoredStore(state);
    const { results } = restored.apply(DEV.map(example), 'dev');
    assert.ok(
      results.every((r) => r.action === 'unchanged'),
      JSON.stringify(results),
    );
  });

  test('a stored document that no longer validates is a state error, not a silent drop', () => {
    const { state } = story();
    const docs = state.readDocuments();
    const i = docs.findIndex((d) => d.text.includes('name: mockb-v1'));
    state.writeDocuments(
      docs.map((d, n) =>
        n === i ? { ...d, text: d.text.replace('replicas: 1', 'replicas: many') } : d,
      ),
    );
    const json = resourcesJson(state);
    const store = new ResourceStore(state);
    assert.throws(
      () => store.restore(),
      (error: unknown) =>
        error instanceof StateError &&
        error.message.includes(
          `${examplePath('mock.yaml')}:${lineOf(example('mock.yaml').text, /^\s+replicas: 1$/, /name: mockb-v1/)}:13: Deployment default/mockb-v1: spec.replicas`,
        ) &&
        error.message.includes('replicas') &&
        error.message.includes(join(state.dir, 'resources.json')),
    );
    assert.deepEqual(store.resources(), []);
    assert.equal(resourcesJson(state), json);
  });

  test('a corrupt resources.json is a state error and stays as it is', () => {
    const { state } = story();
    writeFileSync(join(state.dir, 'resources.json'), '{"format":');
    assert.throws(() => restoredStore(state), StateError);
    assert.equal(resourcesJson(state), '{"format":');
  });
});

describe('ResourceStore.delete', () => {
  const byTargets: {
    title: string;
    targets: DeleteTarget[];
    cluster?: string;
    deleted: string[];
  }[] = [
    {
      title: 'Deployments by name in a namespace',
      targets: [{ kind: 'Deployment', names: ['mocka-v1', 'mockc-v1'], namespace: 'default' }],
      deleted: ['Deployment default/mocka-v1', 'Deployment default/mockc-v1'],
    },
    {
      title: 'a cluster-scoped lane, with or without a namespace',
      targets: [
        { kind: 'ASMSwimLane', names: ['v1'] },
        { kind: 'ASMSwimLaneGroup', names: ['mock'], namespace: 'default' },
      ],
      deleted: ['ASMSwimLane v1', 'ASMSwimLaneGroup mock'],
    },
    {
      title: 'a Deployment of cluster dev, with --cluster dev',
      targets: [{ kind: 'Deployment', names: ['mockc-dev-caros'], namespace: 'default' }],
      cluster: 'dev',
      deleted: ['Deployment default/mockc-dev-caros (cluster dev)'],
    },
    {
      title: 'the Service of cluster dev only, with --cluster dev',
      targets: [{ kind: 'Service', names: ['mocka'], namespace: 'default' }],
      cluster: 'dev',
      deleted: ['Service default/mocka (cluster dev)'],
    },
    {
      title: 'the Service of the default cluster only, without --cluster',
      targets: [{ kind: 'Service', names: ['mocka'], namespace: 'default' }],
      deleted: ['Service default/mocka'],
    },
    {
      title: 'a mesh-wide VirtualService, whatever --cluster says',
      targets: [
        { kind: 'VirtualService', names: ['swimlane-ingress-vs-caros'], namespace: 'istio-system' },
      ],
      cluster: 'dev',
      deleted: ['VirtualService istio-system/swimlane-ingress-vs-caros'],
    },
    {
      title: 'a name without a namespace when only one namespace has it',
      targets: [{ kind: 'Gateway', names: ['ingressgateway'] }],
      deleted: ['Gateway istio-system/ingressgateway'],
    },
  ];
  for (const c of byTargets) {
    test(`by kind and name: ${c.title}`, () => {
      const { state, store } = story();
      const before = labels(store);
      const deleted = store.delete(undefined, c.targets, c.cluster);
      assert.deepEqual(deleted.sort(), [...c.deleted].sort());
      assert.deepEqual(
        labels(store),
        before.filter((l) => !c.deleted.includes(l)),
      );
      assert.deepEqual(labels(restoredStore(state)), labels(store));
    });
  }

  test('by source files: every resource the files define, in the given cluster', () => {
    const { state, store } = story();
    const deleted = store.delete([example('caros-dev.yaml')], undefined, 'dev');
    assert.deepEqual(deleted, [
      'Deployment default/mockc-dev-caros (cluster dev)',
      'ASMSwimLane dev-caros',
      'VirtualService istio-system/swimlane-ingress-vs-caros',
    ]);
    assert.equal(store.resources().length, 15);
    assert.equal(restoredStore(state).resources().length, 15);
  });

  test('by source files: a Deployment whose image no longer runs locally can still be deleted', () => {
    const { store } = fresh();
    store.apply(
      [
        {
          file: 'a.yaml',
          text: deployment(
            'web',
            '      - name: a\n        image: nginx\n        command: [node]\n',
          ),
        },
      ],
      undefined,
    );
    const deleted = store.delete(
      [{ file: 'a.yaml', text: deployment('web', '      - name: a\n        image: nginx\n') }],
      undefined,
      undefined,
    );
    assert.deepEqual(deleted, ['Deployment default/web']);
  });

  const missing: {
    title: string;
    sources?: SourceText[];
    targets?: DeleteTarget[];
    cluster?: string;
    issues: string[];
  }[] = [
    {
      title: 'one of two names does not exist',
      targets: [{ kind: 'Deployment', names: ['mocka-v1', 'nope'], namespace: 'default' }],
      issues: ['Deployment default/nope: not found'],
    },
    {
      title: 'the Deployment is in cluster dev but no --cluster is given',
      targets: [{ kind: 'Deployment', names: ['mockc-dev-caros'], namespace: 'default' }],
      issues: ['Deployment default/mockc-dev-caros: not found'],
    },
    {
      title: 'the namespace is another one',
      targets: [{ kind: 'Gateway', names: ['ingressgateway'], namespace: 'default' }],
      issues: ['Gateway default/ingressgateway: not found'],
    },
    {
      title: 'the kind is another one',
      targets: [{ kind: 'Service', names: ['mocka-v1'], namespace: 'default' }],
      cluster: 'dev',
      issues: ['Service default/mocka-v1 in cluster dev: not found'],
    },
    {
      title: 'a file defines something that was never applied',
      sources: [example('alice-dev.yaml')],
      cluster: 'dev',
      issues: [
        'Deployment default/mocka-dev-alice (cluster dev): not found',
        'ASMSwimLane dev-alice: not found',
        'VirtualService istio-system/swimlane-ingress-vs-alice: not found',
      ],
    },
  ];
  for (const c of missing) {
    test(`deleting when ${c.title} is 404 and deletes nothing`, () => {
      const { state, store } = story();
      const before = { keys: keys(store), json: resourcesJson(state) };
      const error = rejects(() => store.delete(c.sources, c.targets, c.cluster), 404);
      assert.match(error.message, /^not found: .*; nothing was deleted$/);
      assert.deepEqual(error.issues, c.issues);
      assert.deepEqual(keys(store), before.keys);
      assert.equal(resourcesJson(state), before.json);
    });
  }

  test('a name in several namespaces without a namespace is refused (400), nothing deleted', () => {
    const { store } = fresh();
    store.apply(
      [
        { file: 'a.yaml', text: deployment('web', mockContainer, 'shop') },
        { file: 'b.yaml', text: deployment('web', mockContainer, 'default') },
      ],
      undefined,
    );
    const error = rejects(
      () => store.delete(undefined, [{ kind: 'Deployment', names: ['web'] }], undefined),
      400,
    );
    assert.match(error.message, /Deployment web is in several namespaces \(shop, default\)/);
    assert.equal(store.resources().length, 2);
  });

  test('files that do not validate are 400 and delete nothing', () => {
    const { store } = story();
    const before = keys(store);
    const error = rejects(
      () => store.delete([{ file: 'x.yaml', text: 'kind: [' }], undefined, undefined),
      400,
    );
    assert.match(error.message, /do not validate; nothing was deleted/);
    assert.match(error.issues[0]!, /^x\.yaml:/);
    assert.deepEqual(keys(store), before);
  });
  test('files with no resource in them are 400, saying so, and delete nothing', () => {
    const { store } = story();
    const before = keys(store);
    const error = rejects(
      () =>
        store.delete(
          [
            { file: 'a.yaml', text: '' },
            { file: 'b.yaml', text: '# gone\n' },
          ],
          undefined,
          undefined,
        ),
      400,
    );
    assert.equal(
      error.message,
      'no resources in a.yaml, b.yaml: they are empty or only comments; check the path; nothing was deleted',
    );
    assert.deepEqual(keys(store), before);
  });
});

describe('--cluster placement', () => {
  const placed: { kind: string; name: string; cluster: string }[] = [
    { kind: 'Service', name: 'mocka', cluster: 'dev' },
    { kind: 'Deployment', name: 'mockc-dev-caros', cluster: 'dev' },
    { kind: 'ASMSwimLane', name: 'dev-caros', cluster: '' },
    { kind: 'VirtualService', name: 'swimlane-ingress-vs-caros', cluster: '' },
  ];
  for (const c of placed) {
    test(`a ${c.kind} applied with --cluster dev is ${c.cluster ? 'placed in cluster dev' : 'mesh-wide'}`, () => {
      const { store } = fresh();
      store.apply(DEV.map(example), 'dev');
      const r = store.resources().find((x) => x.kind === c.kind && x.metadata.name === c.name)!;
      assert.equal(r.id.cluster, c.cluster);
    });
  }

  test('Gateways go into the given cluster; Instrumentation and lane groups are mesh-wide', () => {
    const { store } = fresh();
    const { results } = store.apply(
      ['gateways.yaml', 'instrumentation.yaml', 'swimlane-v1.yaml'].map(example),
      'dev',
    );
    assert.deepEqual(
      results.map((r) => r.resource),
      [
        'Gateway istio-system/ingressgateway (cluster dev)',
        'Gateway istio-system/ingressgateway-dev (cluster dev)',
        'Instrumentation default/demo-instrumentation',
        'ASMSwimLaneGroup mock',
        'ASMSwimLane v1',
      ],
    );
  });

  test('the same Service in two clusters is two resources; without --cluster it is in default', () => {
    const { store } = story();
    const mocka = store
      .resources()
      .filter((r) => r.kind === 'Service' && r.metadata.name === 'mocka')
      .map((r) => r.id.cluster)
      .sort();
    assert.deepEqual(mocka, ['default', 'dev']);
  });

  test('a mesh-wide resource applied again with another --cluster is the same resource, unchanged', () => {
    const { store } = fresh();
    store.apply([example('swimlane-v1.yaml')], undefined);
    const { results } = store.apply([example('swimlane-v1.yaml')], 'dev');
    assert.deepEqual(
      results.map((r) => r.action),
      ['unchanged', 'unchanged'],
    );
    assert.equal(store.resources().length, 2);
  });
});
