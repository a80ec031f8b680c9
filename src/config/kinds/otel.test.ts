import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { STORY_DIR } from '../../../scripts/story.ts';
import type { Issue } from '../source/issues.ts';
import { parseYamlDocuments } from '../yaml/parse.ts';
import { type ParsedResource, parseResource } from './document.ts';
import type { InstrumentationSpec } from './otel.ts';

function parseOne(text: string, file = 'inst.yaml') {
  const { documents, issues } = parseYamlDocuments(text, file);
  assert.deepEqual(issues, []);
  const [doc] = documents;
  assert.ok(doc);
  return parseResource(doc);
}

function specOf<T>(r: ParsedResource | undefined): T {
  assert.ok(r?.resource, `not accepted: ${JSON.stringify(r?.issues)}`);
  return r.resource.spec as T;
}

const errors = (issues: readonly Issue[]) => issues.filter((i) => i.severity === 'error');

function instrumentation(spec: string): string {
  return `apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata:
  name: demo
spec:
${spec}
`;
}

describe('Instrumentation', () => {
  it('the example instrumentation.yaml parses into propagators and sampler', () => {
    const r = parseOne(
      readFileSync(join(STORY_DIR, 'instrumentation.yaml'), 'utf8'),
      'instrumentation.yaml',
    );
    assert.deepEqual(r.issues, []);
    assert.equal(r.resource?.id.group, 'opentelemetry.io');
    assert.equal(r.resource?.id.cluster, '', 'an Instrumentation is mesh-wide');
    assert.deepEqual(r.resource?.spec, {
      propagators: ['baggage'],
      propagatorsSet: true,
      sampler: { type: 'parentbased_traceidratio', argument: '1' },
      env: [],
    } satisfies InstrumentationSpec);
  });

  it('an Instrumentation without spec gets the SDK defaults', () => {
    const r = parseOne(
      'apiVersion: opentelemetry.io/v1alpha1\nkind: Instrumentation\nmetadata:\n  name: demo\n',
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.resource?.spec, {
      propagators: ['tracecontext', 'baggage'],
      propagatorsSet: false,
      sampler: { type: 'parentbased_always_on', argument: undefined },
      env: [],
    } satisfies InstrumentationSpec);
  });

  it('spec.env and spec.nodejs.env are used, the Node entries after the common ones', () => {
    const r = parseOne(
      instrumentation(`  env:
  - {name: OTEL_SERVICE_NAME, value: common}
  nodejs:
    env:
    - {name: OTEL_SERVICE_NAME, value: node}
    image: ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-nodejs:latest`),
    );
    assert.deepEqual(errors(r.issues), []);
    assert.deepEqual(specOf<InstrumentationSpec>(r).env, [
      { name: 'OTEL_SERVICE_NAME', value: 'common' },
      { name: 'OTEL_SERVICE_NAME', value: 'node' },
    ]);
    const note = r.resource?.notes.find((n) => n.path === 'spec.nodejs.image');
    assert.equal(note?.severity, 'ignored');
  });

  const errorCases: { name: string; spec: string; path: string; message: string | RegExp }[] = [
    {
      name: 'a misspelt propagator is unsupported with a suggestion',
      spec: '  propagators: [tracecontext, bagage]',
      path: 'spec.propagators[1]',
      message: 'Unsupported value: "bagage" (did you mean "baggage"?)',
    },
    {
      name: 'a sampler type outside the CRD enum is unsupported',
      spec: '  sampler: {type: parentbased_jaeger_remote}',
      path: 'spec.sampler.type',
      message: 'Unsupported value: "parentbased_jaeger_remote"',
    },
    {
      name: 'a traceidratio argument above 1 is invalid, as the operator webhook says',
      spec: '  sampler: {type: traceidratio, argument: "1.5"}',
      path: 'spec.sampler.argument',
      message: 'Invalid value: "1.5": must be a number between 0 and 1',
    },
    {
      name: 'a traceidratio argument that is not a number is invalid',
      spec: '  sampler: {type: parentbased_traceidratio, argument: half}',
      path: 'spec.sampler.argument',
      message: 'Invalid value: "half"',
    },
    {
      name: 'an unquoted sampler argument must be quoted',
      spec: '  sampler: {type: traceidratio, argument: 0.5}',
      path: 'spec.sampler.argument',
      message: 'must be a string (quote it: "0.5")',
    },
    {
      name: 'a jaeger_remote argument that is not key=value is invalid',
      spec: '  sampler: {type: jaeger_remote, argument: "endpoint"}',
      path: 'spec.sampler.argument',
      message: 'must be in the form key=value',
    },
    {
      name: 'env valueFrom is an error',
      spec: '  env:\n  - name: K\n    valueFrom: {secretKeyRef: {name: s, key: k}}',
      path: 'spec.env[0].valueFrom',
      message: /not supported by lanes yet: valueFrom/,
    },
    {
      name: 'a misspelt top-level field is an error with a suggestion',
      spec: '  propagator: [baggage]',
      path: 'spec.propagator',
      message: 'unknown field "propagator": did you mean "propagators"?',
    },
    {
      name: 'a misspelt field inside an ignored language block is still an error',
      spec: '  java:\n    imag: x',
      path: 'spec.java.imag',
      message: 'did you mean "image"?',
    },
    {
      name: 'volumeClaimTemplate and volumeLimitSize together are invalid, as the webhook says',
      spec: '  python:\n    volumeLimitSize: 200Mi\n    volumeClaimTemplate: {spec: {}}',
      path: 'spec.python.volumeClaimTemplate',
      message: 'cannot both be defined',
    },
  ];

  for (const c of errorCases) {
    it(c.name, () => {
      const r = parseOne(instrumentation(c.spec));
      assert.equal(r.resource, undefined);
      const found = errors(r.issues).find((i) => i.path === c.path);
      assert.ok(found, `no error at ${c.path}; got ${JSON.stringify(r.issues, null, 1)}`);
      if (typeof c.message === 'string')
        assert.ok(found.message.includes(c.message), found.message);
      else assert.match(found.message, c.message);
      assert.equal(found.resource, 'Instrumentation default/demo');
      assert.ok(found.line > 0 && found.col > 0);
    });
  }

  const ignoredCases: { field: string; spec: string; reason: RegExp }[] = [
    {
      field: 'exporter',
      spec: '  exporter: {endpoint: "http://otel-collector:4317"}',
      reason: /does not send spans/,
    },
    {
      field: 'resource',
      spec: '  resource: {addK8sUIDAttributes: true}',
      reason: /label exported spans/,
    },
    {
      field: 'defaults',
      spec: '  defaults: {useLabelsForResourceAttributes: true}',
      reason: /label exported spans/,
    },
    {
      field: 'java',
      spec: '  java: {image: x, extensions: [{image: y, dir: /z}]}',
      reason: /Java auto-instrumentation/,
    },
    { field: 'python', spec: '  python: {image: x}', reason: /Python/ },
    { field: 'dotnet', spec: '  dotnet: {image: x}', reason: /\.NET/ },
    { field: 'go', spec: '  go: {image: x, securityContext: {privileged: true}}', reason: /Go/ },
    { field: 'apacheHttpd', spec: '  apacheHttpd: {version: "2.4"}', reason: /Apache HTTPD/ },
    { field: 'nginx', spec: '  nginx: {configFile: /etc/nginx/nginx.conf}', reason: /Nginx/ },
    {
      field: 'imagePullPolicy',
      spec: '  imagePullPolicy: Always',
      reason: /no auto-instrumentation image/,
    },
  ];

  for (const c of ignoredCases) {
    it(`${c.field} is accepted and reported as ignored`, () => {
      const r = parseOne(instrumentation(c.spec));
      assert.deepEqual(errors(r.issues), []);
      const note = r.resource?.notes.find((n) => n.path === `spec.${c.field}`);
      assert.ok(note, `no note; got ${JSON.stringify(r.issues)}`);
      assert.equal(note.severity, 'ignored');
      assert.match(note.message, c.reason);
    });
  }

  const warningCases: { name: string; spec: string; message: RegExp }[] = [
    {
      name: 'propagators that carry no lane carrier draw a warning that the tag is lost',
      spec: '  propagators: [jaeger, xray]',
      message: /lane tag is lost after the first hop/,
    },
    {
      name: '"none" together with other propagators draws a warning',
      spec: '  propagators: [none, baggage]',
      message: /"none" turns propagation off/,
    },
    {
      name: 'OTEL_PROPAGATORS in env draws a warning that it overrides spec.propagators',
      spec: '  propagators: [baggage]\n  env:\n  - {name: OTEL_PROPAGATORS, value: b3}',
      message: /OTEL_PROPAGATORS="b3" in env takes precedence over spec.propagators/,
    },
  ];

  for (const c of warningCases) {
    it(c.name, () => {
      const r = parseOne(instrumentation(c.spec));
      assert.deepEqual(errors(r.issues), []);
      const warning = r.issues.find((i) => i.severity === 'warning');
      assert.equal(warning?.path, 'spec.propagators');
      assert.match(warning?.message ?? '', c.message);
    });
  }
});
