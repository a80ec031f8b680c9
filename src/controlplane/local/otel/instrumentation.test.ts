import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeploymentSpec } from '../../../config/kinds/kube/index.ts';
import { loadResources } from '../../../config/load/resources.ts';
import type { Resource } from '../../../config/resource/resource.ts';
import { instrumentationFor, propagatedHeaders } from './instrumentation.ts';

const deployment = (annotation: string | undefined, namespace = 'default') => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: app, namespace: ${namespace} }
spec:
  selector: { matchLabels: { app: app } }
  template:
    metadata:
      labels: { app: app }
${annotation === undefined ? '' : `      annotations: { instrumentation.opentelemetry.io/inject-nodejs: "${annotation}" }\n`}    spec:
      containers: [{ name: app, command: [node, app.js] }]
`;

const instrumentation = (name: string, namespace: string, propagators: string) => `
apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata: { name: ${name}, namespace: ${namespace} }
spec: { propagators: [${propagators}] }
`;

function lookup(yaml: string) {
  const loaded = loadResources([{ file: 'test.yaml', text: yaml }]);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  const d = loaded.resources.find((r) => r.kind === 'Deployment') as Resource<
    string,
    DeploymentSpec
  >;
  return instrumentationFor(d, loaded.resources);
}

describe('instrumentationFor: the Instrumentation the operator would pick', () => {
  const rows: readonly [string, string, string | undefined, readonly string[]][] = [
    ['no annotation: no injection, nothing forwarded', deployment(undefined), undefined, []],
    [
      '"true" with none in the namespace: the SDK defaults (W3C trace context and baggage)',
      `${deployment('true')}---${instrumentation('other', 'elsewhere', 'b3')}`,
      'defaults',
      ['traceparent', 'tracestate', 'baggage'],
    ],
    [
      '"true": the one in the pod’s namespace',
      `${deployment('true')}---${instrumentation('demo', 'default', 'baggage')}`,
      'default/demo',
      ['baggage'],
    ],
    [
      'a name: that one',
      `${deployment('b3')}---${instrumentation('a', 'default', 'baggage')}---${instrumentation('b3', 'default', 'b3multi')}`,
      'default/b3',
      ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'],
    ],
    [
      'namespace/name: that one, in another namespace',
      `${deployment('team/demo')}---${instrumentation('demo', 'team', 'tracecontext')}`,
      'team/demo',
      ['traceparent', 'tracestate'],
    ],
  ];
  for (const [name, yaml, chosen, headers] of rows) {
    it(name, () => {
      const i = lookup(yaml);
      const got =
        i.kind === 'resource'
          ? `${i.resource.metadata.namespace}/${i.resource.metadata.name}`
          : i.kind === 'defaults'
            ? 'defaults'
            : undefined;
      assert.equal(got, chosen);
      assert.deepEqual(propagatedHeaders(i), headers);
    });
  }
});
