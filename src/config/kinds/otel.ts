/**
 * OpenTelemetry operator `opentelemetry.io/v1alpha1 Instrumentation`: how auto-instrumented
 * workloads propagate context. In Kubernetes the operator injects a language SDK into pods that
 * carry `instrumentation.opentelemetry.io/inject-*`; local mode answers those annotations by
 * injecting OpenTelemetry's Node SDK (SPEC §6). What decides whether lane tags survive an
 * application hop is used: the propagators, the sampler and the environment handed to the SDK.
 * Exporting, resource attributes and the per-language init-container settings are accepted and
 * reported as ignored. Fields follow the operator's CRD (`config/crd/bases/opentelemetry.io_instrumentations.yaml`).
 */

import {
  bool,
  type CheckContext,
  ignored,
  intOrString,
  list,
  obj,
  oneOf,
  record,
  required,
  str,
} from '../schema/dsl.ts';
import { defineKind, type KindDef } from './kind.ts';
import {
  checkEnvShadowing,
  containerSecurityContext,
  type EnvVar,
  envVar,
  shape,
} from './kube/pod.ts';
import { DEFAULT_PROPAGATORS, DEFAULT_SAMPLER, SUPPORTED_PROPAGATORS } from './otel-sdk-names.ts';

export const PROPAGATORS = [
  'tracecontext',
  'baggage',
  'b3',
  'b3multi',
  'jaeger',
  'xray',
  'ottrace',
  'none',
] as const;
export type Propagator = (typeof PROPAGATORS)[number];

/** The CRD's enum; the operator also has a `parentbased_jaeger_remote` constant the CRD rejects. */
export const SAMPLER_TYPES = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'jaeger_remote',
  'xray',
] as const;
export type SamplerType = (typeof SAMPLER_TYPES)[number];

export interface InstrumentationSpec {
  /**
   * `OTEL_PROPAGATORS` for the injected SDK. When the spec lists none, the operator sets nothing and
   * the SDK uses its default, `tracecontext,baggage`; that default is filled in here.
   */
  readonly propagators: readonly Propagator[];
  /** Whether `propagators` was written in the spec (false: the SDK default above). */
  readonly propagatorsSet: boolean;
  /**
   * `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`. Unset in the spec means the SDK default,
   * `parentbased_always_on`. Sampling does not stop propagation: unsampled requests still carry
   * `traceparent` and `baggage`.
   */
  readonly sampler: { readonly type: SamplerType; readonly argument: string | undefined };
  /**
   * Variables for the instrumented process: `spec.env`, then `spec.nodejs.env` (a later entry with
   * the same name wins). The operator's precedence, lowest first: the values derived from this spec
   * (`OTEL_PROPAGATORS`, `OTEL_TRACES_SAMPLER`, …) < these < the container's own `env`.
   */
  readonly env: readonly EnvVar[];
}

/** Propagators that carry something a lanes sidecar reads: the baggage entry or a trace id. */
const LANE_CARRIERS: readonly Propagator[] = SUPPORTED_PROPAGATORS;

const NODE_SDK =
  "local mode injects OpenTelemetry's Node SDK into the workloads it runs (the built-in mock service and Node commands)";
const NO_INIT_CONTAINER =
  'local mode injects the Node SDK bundled with lanes; there is no auto-instrumentation image, init container or volume';

const resourceRequirements = shape('limits', 'requests', 'claims');

/** The fields every language block shares; `volumeClaimTemplate` and `volumeLimitSize` exclude each other. */
function languageFields() {
  return {
    image: str(),
    env: list(envVar),
    volumeClaimTemplate: shape('metadata', 'spec'),
    volumeLimitSize: intOrString(),
    resourceRequirements,
  };
}

function checkVolume(
  l: { volumeClaimTemplate?: unknown; volumeLimitSize?: unknown },
  c: CheckContext,
): void {
  if (l.volumeClaimTemplate !== undefined && l.volumeLimitSize !== undefined) {
    c.error(
      'Invalid value: volumeClaimTemplate and volumeLimitSize cannot both be defined',
      'volumeClaimTemplate',
    );
  }
}

const otherLanguage = (language: string) =>
  ignored(
    `${NODE_SDK}; ${language} auto-instrumentation settings do not apply`,
    obj(languageFields()).check(checkVolume),
  );

const nodejs = obj({
  env: list(envVar),
  image: ignored(NO_INIT_CONTAINER, str()),
  volumeClaimTemplate: ignored(NO_INIT_CONTAINER, shape('metadata', 'spec')),
  volumeLimitSize: ignored(NO_INIT_CONTAINER, intOrString()),
  resourceRequirements: ignored(
    'the injected SDK runs inside the local process, which has no resource limits',
    resourceRequirements,
  ),
});

const sampler = obj({
  type: oneOf(SAMPLER_TYPES),
  argument: str(),
}).check((s, c) => {
  if (s.argument === undefined || s.argument === '') return;
  // The operator's admission webhook checks the argument the same way.
  if (s.type === 'traceidratio' || s.type === 'parentbased_traceidratio') {
    const rate = Number(s.argument);
    if (s.argument.trim() === '' || Number.isNaN(rate) || rate < 0 || rate > 1) {
      c.error(
        `Invalid value: ${JSON.stringify(s.argument)}: must be a number between 0 and 1 for sampler type ${JSON.stringify(s.type)}`,
        'argument',
      );
    }
  } else if (s.type === 'jaeger_remote') {
    const problem = jaegerRemoteProblem(s.argument);
    if (problem) c.error(`Invalid value: ${JSON.stringify(s.argument)}: ${problem}`, 'argument');
  }
});

/** `endpoint=http://…,pollingIntervalMs=5000,initialSamplingRate=0.25`, as the operator validates it. */
function jaegerRemoteProblem(argument: string): string | undefined {
  for (const part of argument.split(',')) {
    const kv = part.split('=');
    if (kv.length !== 2) return `${JSON.stringify(part)} must be in the form key=value`;
    const [key, value = ''] = kv;
    if (key === 'endpoint' && value === '') return 'endpoint must not be empty';
    if (key === 'pollingIntervalMs' && !/^[+-]?\d+$/.test(value)) {
      return `pollingIntervalMs must be an integer, not ${JSON.stringify(value)}`;
    }
    if (key === 'initialSamplingRate') {
      const rate = Number(value);
      if (value.trim() === '' || Number.isNaN(rate) || rate < 0 || rate > 1) {
        return `initialSamplingRate must be a number between 0 and 1, not ${JSON.stringify(value)}`;
      }
    }
  }
  return undefined;
}

const spec = obj({
  propagators: list(oneOf(PROPAGATORS)),
  sampler,
  env: list(envVar),
  nodejs,
  exporter: ignored(
    'local mode does not send spans to the exporter endpoint (a collector in the cluster); to export, set OTEL_EXPORTER_OTLP_ENDPOINT in spec.env to a collector you run',
    obj({
      endpoint: str(),
      tls: shape('secretName', 'configMapName', 'ca_file', 'cert_file', 'key_file'),
    }),
  ),
  resource: ignored(
    'resource attributes only label exported spans; they do not change how context propagates',
    obj({ resourceAttributes: record(str()), addK8sUIDAttributes: bool() }),
  ),
  defaults: ignored(
    'resource attributes only label exported spans; they do not change how context propagates',
    shape('useLabelsForResourceAttributes'),
  ),
  java: ignored(
    `${NODE_SDK}; Java auto-instrumentation settings do not apply`,
    obj({
      image: str(),
      env: list(envVar),
      volumeClaimTemplate: shape('metadata', 'spec'),
      volumeLimitSize: intOrString(),
      // Java alone calls it `resources`.
      resources: resourceRequirements,
      extensions: list(obj({ image: required(str()), dir: required(str()) })),
    }).check(checkVolume),
  ),
  python: otherLanguage('Python'),
  dotnet: otherLanguage('.NET'),
  go: ignored(
    `${NODE_SDK}; Go auto-instrumentation settings do not apply`,
    obj({ ...languageFields(), securityContext: containerSecurityContext }).check(checkVolume),
  ),
  apacheHttpd: ignored(
    `${NODE_SDK}; Apache HTTPD auto-instrumentation settings do not apply`,
    obj({
      ...languageFields(),
      attrs: list(envVar),
      version: str(),
      configPath: str(),
    }).check(checkVolume),
  ),
  nginx: ignored(
    `${NODE_SDK}; Nginx auto-instrumentation settings do not apply`,
    obj({ ...languageFields(), attrs: list(envVar), configFile: str() }).check(checkVolume),
  ),
  imagePullPolicy: ignored(NO_INIT_CONTAINER, oneOf(['Always', 'Never', 'IfNotPresent'])),
  initContainerSecurityContext: ignored(NO_INIT_CONTAINER, containerSecurityContext),
})
  .check((s, c) => {
    const propagators = s.propagators ?? [];
    if (propagators.includes('none') && propagators.length > 1) {
      c.warn(
        '"none" turns propagation off; it makes no sense together with other propagators',
        'propagators',
      );
    }
    if (s.propagators !== undefined && !propagators.some((p) => LANE_CARRIERS.includes(p))) {
      c.warn(
        `with these propagators an instrumented app forwards neither baggage nor a trace id lanes can read (${LANE_CARRIERS.join(', ')}), so the lane tag is lost after the first hop`,
        'propagators',
      );
    }
    const env = [...(s.env ?? []), ...(s.nodejs?.env ?? [])];
    if (s.env) checkEnvShadowing(s.env, c, 'env');
    if (s.nodejs?.env) checkEnvShadowing(s.nodejs.env, c, 'nodejs', 'env');
    const overrides = env.find((e) => e.name === 'OTEL_PROPAGATORS');
    if (overrides && s.propagators !== undefined) {
      c.warn(
        `OTEL_PROPAGATORS=${JSON.stringify(overrides.value)} in env takes precedence over spec.propagators (the operator's order)`,
        'propagators',
      );
    }
  })
  .map(
    (s): InstrumentationSpec => ({
      propagators: s.propagators && s.propagators.length > 0 ? s.propagators : DEFAULT_PROPAGATORS,
      propagatorsSet: s.propagators !== undefined && s.propagators.length > 0,
      sampler: {
        type: s.sampler?.type ?? DEFAULT_SAMPLER,
        argument: s.sampler?.argument || undefined,
      },
      env: [...(s.env ?? []), ...(s.nodejs?.env ?? [])],
    }),
  );

export const instrumentationKind = defineKind<InstrumentationSpec>({
  group: 'opentelemetry.io',
  versions: ['v1alpha1'],
  kind: 'Instrumentation',
  scope: 'Namespaced',
  placement: 'mesh',
  spec,
  // An Instrumentation with an empty spec is valid: it means the SDK defaults.
  specRequired: false,
});

export const otelKinds: readonly KindDef[] = [instrumentationKind] as readonly KindDef[];
