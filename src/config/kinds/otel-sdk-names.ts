/**
 * The OpenTelemetry SDK's defaults and what lanes' injected SDK can install: one place for the
 * Instrumentation kind (its defaults and warnings), the daemon (the env it writes) and the SDK in
 * the workload (the env it reads). No imports: every instrumented workload loads this.
 */

/** Propagators the injected SDK installs: exactly those whose headers a lanes sidecar reads. */
export const SUPPORTED_PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi'] as const;
export type SupportedPropagator = (typeof SUPPORTED_PROPAGATORS)[number];

/** `OTEL_PROPAGATORS` when unset (the specification's default). */
export const DEFAULT_PROPAGATORS: readonly SupportedPropagator[] = ['tracecontext', 'baggage'];

/** Samplers the injected SDK runs locally (the remote ones need a service local mode lacks). */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** `OTEL_TRACES_SAMPLER` when unset (the specification's default). */
export const DEFAULT_SAMPLER: SamplerName = 'parentbased_always_on';
