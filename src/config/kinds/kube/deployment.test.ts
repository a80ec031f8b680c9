import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { STORY_DIR, storyCopies } from '../../../../scripts/story.ts';
import type { Issue } from '../../source/issues.ts';
import { parseYamlDocuments } from '../../yaml/parse.ts';
import { type ParsedResource, parseResource } from '../document.ts';
import type { DeploymentSpec } from './index.ts';

function parseAll(text: string, file = 'deploy.yaml') {
  const { documents, issues } = parseYamlDocuments(text, file);
  assert.deepEqual(issues, []);
  return documents.map((d) => parseResource(d));
}

function parseOne(text: string) {
  const [parsed] = parseAll(text);
  assert.ok(parsed);
  return parsed;
}

function specOf<T>(r: ParsedResource | undefined): T {
  assert.ok(r?.resource, `not accepted: ${JSON.stringify(r?.issues)}`);
  return r.resource.spec as T;
}

const errors = (issues: readonly Issue[]) => issues.filter((i) => i.severity === 'error');

/** A valid Deployment; `spec` lines replace the template's container block when given. */
function deployment(opts: { spec?: string; container?: string; podSpec?: string; meta?: string }) {
  const container =
    opts.container ??
    `      - name: app
        image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java`;
  const podSpec = opts.podSpec ?? '';
  const spec =
    opts.spec ??
    `  selector:
    matchLabels:
      app: mocka
  template:
    metadata:
      labels:
        app: mocka
${opts.meta ?? ''}    spec:
${podSpec}      containers:
${container}`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: mocka-v1
spec:
${spec}
`;
}

describe('Deployment', () => {
  for (const copy of storyCopies()) {
    for (const file of [
      'mock.yaml',
      'mock-v2.yaml',
      'mock-v3.yaml',
      'alice-dev.yaml',
      'bob-dev.yaml',
      'caros-dev.yaml',
    ]) {
      const title = `every Deployment in ${file} of ${copy.name} parses, each imagePullPolicy reported as ignored where it is`;
      if ('skip' in copy) {
        it(title, { skip: copy.skip }, () => {});
        continue;
      }
      it(title, () => {
        const text = readFileSync(join(copy.dir, file), 'utf8');
        const results = parseAll(text, file).filter(
          (r) =>
            r.resource?.kind === 'Deployment' || /^Deployment /.test(r.issues[0]?.resource ?? ''),
        );
        assert.ok(results.length > 0);
        const lines = text.split('\n');
        const written = lines.filter((l) => /^\s*imagePullPolicy:/.test(l)).length;
        let reported = 0;
        for (const r of results) {
          assert.deepEqual(errors(r.issues), []);
          assert.ok(r.resource);
          for (const note of r.resource.notes.filter((n) => n.path.endsWith('imagePullPolicy'))) {
            reported++;
            assert.equal(note.severity, 'ignored');
            assert.equal(note.path, 'spec.template.spec.containers[0].imagePullPolicy');
            assert.equal(note.file, file);
            assert.match(lines[note.line - 1] ?? '', /imagePullPolicy/);
          }
        }
        assert.equal(reported, written);
      });
    }
  }

  it('mock.yaml mocka-v1 gives the typed spec with defaults applied', () => {
    const [, parsed] = parseAll(readFileSync(join(STORY_DIR, 'mock.yaml'), 'utf8'), 'mock.yaml');
    const spec = specOf<DeploymentSpec>(parsed);
    assert.equal(spec.replicas, 1);
    assert.deepEqual(spec.selector, {
      matchLabels: { app: 'mocka', version: 'v1', ASM_TRAFFIC_TAG: 'v1' },
      matchExpressions: [],
    });
    assert.deepEqual(spec.template.labels, { app: 'mocka', version: 'v1', ASM_TRAFFIC_TAG: 'v1' });
    assert.equal(spec.template.terminationGracePeriodSeconds, 30);
    assert.deepEqual(spec.template.instrumentation, [
      { language: 'java', instrumentation: undefined, containerNames: ['default'] },
    ]);
    assert.deepEqual(spec.template.containers, [
      {
        name: 'default',
        image: 'registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java',
        command: undefined,
        args: undefined,
        workingDir: undefined,
        env: [
          { name: 'app', value: 'mocka' },
          { name: 'version', value: 'v1' },
          { name: 'upstream_url', value: 'http://mockb:8000/' },
        ],
        ports: [{ containerPort: 8000, name: undefined, protocol: 'TCP' }],
      },
    ]);
  });

  it('a minimal Deployment defaults replicas to 1, grace to 30 s and lists to empty', () => {
    const r = parseOne(deployment({}));
    assert.deepEqual(errors(r.issues), []);
    const spec = specOf<DeploymentSpec>(r);
    assert.equal(spec.replicas, 1);
    assert.equal(spec.template.terminationGracePeriodSeconds, 30);
    assert.deepEqual(spec.template.annotations, {});
    assert.deepEqual(spec.template.instrumentation, []);
    assert.deepEqual(spec.template.containers[0]?.env, []);
    assert.deepEqual(spec.template.containers[0]?.ports, []);
  });

  it('replicas, command, args, workingDir and the grace period are read as written', () => {
    const r = parseOne(
      deployment({
        spec: `  replicas: 0
  selector:
    matchLabels: {app: mocka}
  template:
    metadata:
      labels: {app: mocka}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        command: [node, server.js]
        args: ["--port", "$(PORT)"]
        workingDir: /srv/app
        env:
        - name: EMPTY
        ports:
        - {containerPort: 8080, name: http, protocol: TCP}`,
      }),
    );
    assert.deepEqual(errors(r.issues), []);
    const spec = specOf<DeploymentSpec>(r);
    assert.equal(spec.replicas, 0);
    assert.equal(spec.template.terminationGracePeriodSeconds, 5);
    assert.deepEqual(spec.template.containers[0], {
      name: 'app',
      image: undefined,
      command: ['node', 'server.js'],
      args: ['--port', '$(PORT)'],
      workingDir: '/srv/app',
      env: [{ name: 'EMPTY', value: '' }],
      ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
    });
  });

  it('an empty command list is the same as no command, as in Kubernetes', () => {
    const r = parseOne(deployment({ container: '      - name: app\n        command: []' }));
    const spec = specOf<DeploymentSpec>(r);
    assert.equal(spec.template.containers[0]?.command, undefined);
  });

  it('matchExpressions with In, NotIn, Exists and DoesNotExist select the template labels', () => {
    const r = parseOne(
      deployment({
        spec: `  selector:
    matchLabels: {app: mocka}
    matchExpressions:
    - {key: version, operator: In, values: [v1, v2]}
    - {key: track, operator: NotIn, values: [canary]}
    - {key: app, operator: Exists}
    - {key: debug, operator: DoesNotExist}
  template:
    metadata:
      labels: {app: mocka, version: v2}
    spec:
      containers:
      - name: app
        command: [node]`,
      }),
    );
    assert.deepEqual(errors(r.issues), []);
    const spec = specOf<DeploymentSpec>(r);
    assert.deepEqual(spec.selector.matchExpressions[0], {
      key: 'version',
      operator: 'In',
      values: ['v1', 'v2'],
    });
    assert.deepEqual(spec.selector.matchExpressions[2]?.values, []);
  });

  const errorCases: {
    name: string;
    yaml: string;
    path: string;
    message: string | RegExp;
    at?: [number, number];
  }[] = [
    {
      name: 'a misspelt container field is an error with a suggestion and its position',
      yaml: deployment({ container: '      - name: app\n        imagePullPolcy: Always' }),
      path: 'spec.template.spec.containers[0].imagePullPolcy',
      message: 'unknown field "imagePullPolcy": did you mean "imagePullPolicy"?',
      at: [16, 9],
    },
    {
      name: 'a misspelt spec field is an error with a suggestion',
      yaml: deployment({ podSpec: '      terminationGracePeriod: 10\n' }),
      path: 'spec.template.spec.terminationGracePeriod',
      message: 'did you mean "terminationGracePeriodSeconds"?',
    },
    {
      name: 'a selector that does not select the template labels is rejected as Kubernetes does',
      yaml: deployment({
        spec: `  selector:
    matchLabels: {app: mocka, version: v2}
  template:
    metadata:
      labels: {version: v1, app: mocka}
    spec:
      containers:
      - name: app`,
      }),
      path: 'spec.template.metadata.labels',
      message:
        'Invalid value: map[string]string{"app":"mocka", "version":"v1"}: `selector` does not match template `labels`',
      at: [10, 15],
    },
    {
      name: 'a NotIn expression that excludes the template label does not match',
      yaml: deployment({
        spec: `  selector:
    matchExpressions:
    - {key: version, operator: NotIn, values: [v1]}
  template:
    metadata:
      labels: {version: v1}
    spec:
      containers:
      - name: app`,
      }),
      path: 'spec.template.metadata.labels',
      message: '`selector` does not match template `labels`',
    },
    {
      name: 'an empty selector is rejected',
      yaml: deployment({
        spec: '  selector: {}\n  template:\n    spec:\n      containers:\n      - name: app',
      }),
      path: 'spec.selector',
      message: 'empty selector is invalid for deployment',
    },
    {
      name: 'a missing selector is a required value',
      yaml: deployment({
        spec: '  template:\n    spec:\n      containers:\n      - name: app',
      }),
      path: 'spec.selector',
      message: 'Required value',
    },
    {
      name: 'In without values is a required value',
      yaml: deployment({
        spec: `  selector:
    matchExpressions:
    - {key: app, operator: In}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
      - name: app`,
      }),
      path: 'spec.selector.matchExpressions[0].values',
      message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
    },
    {
      name: 'an unknown selector operator lists the supported ones',
      yaml: deployment({
        spec: `  selector:
    matchExpressions:
    - {key: app, operator: Exist}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
      - name: app`,
      }),
      path: 'spec.selector.matchExpressions[0].operator',
      message: 'Unsupported value: "Exist" (did you mean "Exists"?)',
    },
    {
      name: 'two containers with the same name are a duplicate value',
      yaml: deployment({
        container:
          '      - name: app\n        command: [a]\n      - name: app\n        command: [b]',
      }),
      path: 'spec.template.spec.containers[1].name',
      message: 'Duplicate value: "app"',
    },
    {
      name: 'a container name that is not a DNS label is invalid',
      yaml: deployment({ container: '      - name: App_1' }),
      path: 'spec.template.spec.containers[0].name',
      message: 'a container name must be a DNS-1123 label',
    },
    {
      name: 'a pod template without containers is rejected',
      yaml: deployment({
        spec: '  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers: []',
      }),
      path: 'spec.template.spec.containers',
      message: 'Required value',
    },
    {
      name: 'env valueFrom is an error that says why a local process cannot have it',
      yaml: deployment({
        container: `      - name: app
        env:
        - name: POD_NAME
          valueFrom:
            fieldRef: {fieldPath: metadata.name}`,
      }),
      path: 'spec.template.spec.containers[0].env[0].valueFrom',
      message: /not supported by lanes yet: valueFrom .* set `value` instead/,
      at: [18, 11],
    },
    {
      name: 'envFrom is an error that says to list the variables under env',
      yaml: deployment({
        container: '      - name: app\n        envFrom:\n        - configMapRef: {name: cfg}',
      }),
      path: 'spec.template.spec.containers[0].envFrom',
      message: /envFrom .* list the variables under `env`/,
    },
    {
      name: 'init containers are an error',
      yaml: deployment({ podSpec: '      initContainers:\n      - name: migrate\n' }),
      path: 'spec.template.spec.initContainers',
      message: /init containers do not run in local mode/,
    },
    {
      name: 'ephemeral containers are forbidden in a pod template, as in Kubernetes',
      yaml: deployment({ podSpec: '      ephemeralContainers:\n      - name: debug\n' }),
      path: 'spec.template.spec.ephemeralContainers',
      message: 'Forbidden: ephemeral containers not allowed in pod template',
    },
    {
      name: 'restartPolicy other than Always is unsupported in a Deployment',
      yaml: deployment({ podSpec: '      restartPolicy: Never\n' }),
      path: 'spec.template.spec.restartPolicy',
      message: 'Unsupported value: "Never": supported values: "Always"',
    },
    {
      name: 'activeDeadlineSeconds is rejected in a Deployment',
      yaml: deployment({ podSpec: '      activeDeadlineSeconds: 60\n' }),
      path: 'spec.template.spec.activeDeadlineSeconds',
      message: /Invalid value: 60: activeDeadlineSeconds is not supported/,
    },
    {
      name: 'a container port above 65535 is invalid',
      yaml: deployment({
        container: '      - name: app\n        ports:\n        - containerPort: 70000',
      }),
      path: 'spec.template.spec.containers[0].ports[0].containerPort',
      message: 'Invalid value: 70000: must be between 1 and 65535',
    },
    {
      name: 'a container port without containerPort is a required value',
      yaml: deployment({ container: '      - name: app\n        ports:\n        - name: http' }),
      path: 'spec.template.spec.containers[0].ports[0].containerPort',
      message: 'Required value',
    },
    {
      name: 'a container port name longer than 15 characters is invalid',
      yaml: deployment({
        container:
          '      - name: app\n        ports:\n        - {containerPort: 80, name: http-very-long-name}',
      }),
      path: 'spec.template.spec.containers[0].ports[0].name',
      message: 'must be no more than 15 characters',
    },
    {
      name: 'port names must be unique across the containers of a pod',
      yaml: deployment({
        container: `      - name: a
        ports: [{containerPort: 80, name: http}]
      - name: b
        ports: [{containerPort: 81, name: http}]`,
      }),
      path: 'spec.template.spec.containers[1].ports[0].name',
      message: 'Duplicate value: "http"',
    },
    {
      name: "an env var name with '=' is invalid under Kubernetes' relaxed rule",
      yaml: deployment({
        container: '      - name: app\n        env:\n        - {name: "A=B", value: x}',
      }),
      path: 'spec.template.spec.containers[0].env[0].name',
      message:
        "a valid environment variable name must consist only of printable ASCII characters other than '='",
    },
    {
      name: 'an empty env var name is a required value',
      yaml: deployment({
        container: '      - name: app\n        env:\n        - {name: "", value: x}',
      }),
      path: 'spec.template.spec.containers[0].env[0].name',
      message: 'Required value',
    },
    {
      name: 'an unquoted number as an env value must be quoted, as in Kubernetes',
      yaml: deployment({
        container: '      - name: app\n        env:\n        - {name: PORT, value: 80}',
      }),
      path: 'spec.template.spec.containers[0].env[0].value',
      message: 'Invalid value: 80: must be a string (quote it: "80")',
    },
    {
      name: 'negative replicas are invalid',
      yaml: deployment({
        spec: `  replicas: -1
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
      - name: app`,
      }),
      path: 'spec.replicas',
      message: 'Invalid value: -1: must be between 0 and 2147483647',
    },
    {
      name: 'a negative grace period is invalid',
      yaml: deployment({ podSpec: '      terminationGracePeriodSeconds: -1\n' }),
      path: 'spec.template.spec.terminationGracePeriodSeconds',
      message: 'Invalid value: -1: must be at least 0',
    },
    {
      name: 'a wrong imagePullPolicy value is an error even though the field is ignored',
      yaml: deployment({ container: '      - name: app\n        imagePullPolicy: Sometimes' }),
      path: 'spec.template.spec.containers[0].imagePullPolicy',
      message: 'Unsupported value: "Sometimes"',
    },
    {
      name: 'a misspelt field inside an ignored probe is still an error',
      yaml: deployment({
        container: '      - name: app\n        readinessProbe:\n          httpGett: {path: /}',
      }),
      path: 'spec.template.spec.containers[0].readinessProbe.httpGett',
      message: 'did you mean "httpGet"?',
    },
    {
      name: 'a rollingUpdate block with the Recreate strategy is forbidden',
      yaml: deployment({
        spec: `  strategy:
    type: Recreate
    rollingUpdate: {maxSurge: 1}
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
      - name: app`,
      }),
      path: 'spec.strategy.rollingUpdate',
      message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
    },
    {
      name: 'container-names naming no container of the pod is an error',
      yaml: deployment({
        meta: `      annotations:
        instrumentation.opentelemetry.io/inject-nodejs: "true"
        instrumentation.opentelemetry.io/container-names: "web"
`,
      }),
      path: 'spec.template.metadata.annotations["instrumentation.opentelemetry.io/container-names"]',
      message: 'Invalid value: "web": no container of this pod template has that name; known: app',
    },
    {
      name: 'an inject annotation naming an invalid Instrumentation is an error',
      yaml: deployment({
        meta: `      annotations:
        instrumentation.opentelemetry.io/inject-nodejs: "Not A Name"
`,
      }),
      path: 'spec.template.metadata.annotations["instrumentation.opentelemetry.io/inject-nodejs"]',
      message: 'must be "true", "false", the name of an Instrumentation, or namespace/name',
    },
  ];

  for (const c of errorCases) {
    it(c.name, () => {
      const r = parseOne(c.yaml);
      assert.equal(r.resource, undefined);
      const found = errors(r.issues).find((i) => i.path === c.path);
      assert.ok(found, `no error at ${c.path}; got ${JSON.stringify(r.issues, null, 1)}`);
      if (typeof c.message === 'string')
        assert.ok(found.message.includes(c.message), found.message);
      else assert.match(found.message, c.message);
      assert.equal(found.file, 'deploy.yaml');
      assert.equal(found.resource, 'Deployment default/mocka-v1');
      if (c.at) assert.deepEqual([found.line, found.col], c.at);
    });
  }

  const ignoredCases: { field: string; yaml: string; path: string; reason: RegExp }[] = [
    {
      field: 'resources',
      yaml: deployment({
        container: '      - name: app\n        resources: {limits: {cpu: 500m}}',
      }),
      path: 'spec.template.spec.containers[0].resources',
      reason: /without resource requests, limits/,
    },
    {
      field: 'probes',
      yaml: deployment({
        container:
          '      - name: app\n        livenessProbe: {httpGet: {path: /healthz, port: 8000}}',
      }),
      path: 'spec.template.spec.containers[0].livenessProbe',
      reason: /does not run Kubernetes probes/,
    },
    {
      field: 'volumes',
      yaml: deployment({ podSpec: '      volumes:\n      - {name: data, emptyDir: {}}\n' }),
      path: 'spec.template.spec.volumes',
      reason: /volumes are not mounted/,
    },
    {
      field: 'resizePolicy',
      yaml: deployment({
        container:
          '      - name: app\n        resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired}]',
      }),
      path: 'spec.template.spec.containers[0].resizePolicy',
      reason: /resizing/,
    },
    {
      field: 'container restartPolicy',
      yaml: deployment({ container: '      - name: app\n        restartPolicy: Always' }),
      path: 'spec.template.spec.containers[0].restartPolicy',
      reason: /restarts an exited process/,
    },
    {
      field: 'hostUsers',
      yaml: deployment({ podSpec: '      hostUsers: false\n' }),
      path: 'spec.template.spec.hostUsers',
      reason: /as your user/,
    },
    {
      field: 'os',
      yaml: deployment({ podSpec: '      os: {name: linux}\n' }),
      path: 'spec.template.spec.os',
      reason: /operating system/,
    },
    {
      field: 'schedulingGates',
      yaml: deployment({ podSpec: '      schedulingGates: [{name: wait}]\n' }),
      path: 'spec.template.spec.schedulingGates',
      reason: /no scheduler/,
    },
    {
      field: 'resourceClaims',
      yaml: deployment({ podSpec: '      resourceClaims: [{name: gpu, resourceClaimName: g}]\n' }),
      path: 'spec.template.spec.resourceClaims',
      reason: /resource/,
    },
    {
      field: 'strategy',
      yaml: deployment({
        spec: `  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
      - name: app`,
      }),
      path: 'spec.strategy',
      reason: /no rollouts/,
    },
    {
      field: 'container UDP port protocol',
      yaml: deployment({
        container: '      - name: app\n        ports: [{containerPort: 53, protocol: UDP}]',
      }),
      path: 'spec.template.spec.containers[0].ports[0].protocol',
      reason: /HTTP over TCP only/,
    },
    {
      field: 'template metadata name',
      yaml: deployment({ meta: '      name: pod\n' }),
      path: 'spec.template.metadata.name',
      reason: /names a Deployment's instances itself/,
    },
  ];

  for (const c of ignoredCases) {
    it(`${c.field} is accepted and reported as ignored at ${c.path}`, () => {
      const r = parseOne(c.yaml);
      assert.deepEqual(errors(r.issues), []);
      assert.ok(r.resource);
      const note = r.resource.notes.find((n) => n.path === c.path);
      assert.ok(note, `no note at ${c.path}; got ${JSON.stringify(r.resource.notes)}`);
      assert.equal(note.severity, 'ignored');
      assert.match(note.message, /^ignored: /);
      assert.match(note.message, c.reason);
      assert.ok(note.line > 0);
    });
  }

  it('an env entry that repeats a name is accepted with a warning, as Kubernetes warns', () => {
    const r = parseOne(
      deployment({
        container:
          '      - name: app\n        env:\n        - {name: A, value: "1"}\n        - {name: A, value: "2"}',
      }),
    );
    assert.deepEqual(errors(r.issues), []);
    const warning = r.issues.find((i) => i.severity === 'warning');
    assert.equal(warning?.path, 'spec.template.spec.containers[0].env[1]');
    assert.match(warning?.message ?? '', /hides previous definition of "A"/);
  });

  it('a misspelt inject annotation is accepted with a warning that suggests the real one', () => {
    const r = parseOne(
      deployment({
        meta: '      annotations:\n        instrumentation.opentelemetry.io/inject-nodjs: "true"\n',
      }),
    );
    assert.deepEqual(errors(r.issues), []);
    const warning = r.issues.find((i) => i.severity === 'warning');
    assert.match(
      warning?.message ?? '',
      /did you mean "instrumentation.opentelemetry.io\/inject-nodejs"\?/,
    );
    assert.deepEqual(specOf<DeploymentSpec>(r).template.instrumentation, []);
  });

  it('inject annotations name their Instrumentation and per-language containers', () => {
    const r = parseOne(
      deployment({
        container:
          '      - name: side\n        command: [a]\n      - name: app\n        command: [b]',
        meta: `      annotations:
        instrumentation.opentelemetry.io/inject-nodejs: "otel/node-inst"
        instrumentation.opentelemetry.io/nodejs-container-names: "app"
        instrumentation.opentelemetry.io/inject-python: "false"
        instrumentation.opentelemetry.io/inject-sdk: "true"
`,
      }),
    );
    assert.deepEqual(errors(r.issues), []);
    assert.deepEqual(specOf<DeploymentSpec>(r).template.instrumentation, [
      {
        language: 'nodejs',
        instrumentation: { namespace: 'otel', name: 'node-inst' },
        containerNames: ['app'],
      },
      { language: 'sdk', instrumentation: undefined, containerNames: undefined },
    ]);
  });
});
