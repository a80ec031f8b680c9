/**
 * The environment local mode gives an auto-instrumented Node workload: the local equivalent of
 * what the OpenTelemetry Operator's webhook adds to a pod that asks for injection. Pure.
 */
import type { InstrumentationSpec } from '../../../config/kinds/otel.ts';
import { DEFAULT_PROPAGATORS, DEFAULT_SAMPLER } from '../../../config/kinds/otel-sdk-names.ts';

/**
 * `--import` takes a module specifier: a file URL works on every platform and needs no quoting in
 * NODE_OPTIONS even when the path holds spaces (they become %20).
 */
export const REGISTER_URL = new URL('./register.ts', import.meta.url).href;

/** The NODE_OPTIONS part that loads the SDK before the app. */
export const NODE_OPTIONS_FRAGMENT = `--import ${REGISTER_URL}`;

/**
 * The variables for one workload, lowest precedence first as the operator applies them: what the
 * `Instrumentation` spec says (`OTEL_PROPAGATORS`, `OTEL_TRACES_SAMPLER(_ARG)`), the service name,
 * then the spec's own `env` (`spec.env`, then `spec.nodejs.env`). The container's `env` goes on
 * top of this (the caller's job); for `NODE_OPTIONS` use `mergeNodeOptions` so a container that
 * sets its own keeps it. Without an `Instrumentation`, the SDK defaults are written out.
 */
export function otelEnv(
  instrumentation: InstrumentationSpec | undefined,
  serviceName: string,
): Record<string, string> {
  const env: Record<string, string> = {
    OTEL_PROPAGATORS: (instrumentation?.propagators ?? DEFAULT_PROPAGATORS).join(','),
    OTEL_TRACES_SAMPLER: instrumentation?.sampler.type ?? DEFAULT_SAMPLER,
  };
  const argument = instrumentation?.sampler.argument;
  if (argument !== undefined) env.OTEL_TRACES_SAMPLER_ARG = argument;
  env.OTEL_SERVICE_NAME = serviceName;
  for (const { name, value } of instrumentation?.env ?? []) env[name] = value;
  // The spec's env may bring NODE_OPTIONS of its own; the SDK is loaded in addition to it.
  env.NODE_OPTIONS = mergeNodeOptions(env.NODE_OPTIONS, NODE_OPTIONS_FRAGMENT);
  return env;
}

/**
 * Appends `fragment` to an existing NODE_OPTIONS value, as the operator does for Node.js
 * (`NODE_OPTIONS="<existing> --require …"`); the fragment is not added twice.
 */
export function mergeNodeOptions(existing: string | undefined, fragment: string): string {
  const base = existing?.trim() ?? '';
  if (base === '') return fragment;
  if (base.includes(fragment)) return base;
  return `${base} ${fragment}`;
}
