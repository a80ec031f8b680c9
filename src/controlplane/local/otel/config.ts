/**
 * Reads the standard OpenTelemetry SDK environment variables for the SDK that local mode injects
 * into Node workloads (`register.ts`). Pure: the environment goes in, a plan and warnings come
 * out, so every rule here is testable without starting a process.
 *
 * The names and defaults follow the OpenTelemetry specification's "Environment Variable
 * Specification" (`OTEL_PROPAGATORS`, `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`,
 * `OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_*`, `OTEL_SDK_DISABLED`, `OTEL_LOG_LEVEL`). SDK 3.x no longer reads
 * them in its tracer provider (only `@opentelemetry/sdk-node` does, and it brings every
 * instrumentation and exporter with it), so the injected SDK reads them here.
 */
import {
  DEFAULT_PROPAGATORS,
  DEFAULT_SAMPLER,
  SAMPLERS,
  type SamplerName,
  SUPPORTED_PROPAGATORS,
  type SupportedPropagator,
} from '../../../config/kinds/otel-sdk-names.ts';

/**
 * Standard names the injected SDK knows but does not install: their headers (`uber-trace-id`,
 * `X-Amzn-Trace-Id`, `ot-tracer-*`) are no lane carrier lanes reads, and each would be another
 * package in every workload's startup.
 */
const UNAVAILABLE_PROPAGATORS = ['jaeger', 'xray', 'ottrace'];

/** Standard samplers that need a remote service (Jaeger, AWS X-Ray) local mode does not have. */
const REMOTE_SAMPLERS = ['jaeger_remote', 'parentbased_jaeger_remote', 'xray'];

export type TraceExporter = 'otlp' | 'console';

/** `OTEL_LOG_LEVEL` values: the SDK's own diagnostics, off unless asked for. */
export const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface OtelPlan {
  /** `OTEL_SDK_DISABLED=true`: install nothing, not even propagation. */
  readonly disabled: boolean;
  /** In the order given; empty means no propagation (`none`). */
  readonly propagators: readonly SupportedPropagator[];
  readonly sampler: SamplerName;
  /** For the ratio samplers, in [0, 1]. */
  readonly ratio: number;
  readonly exporters: readonly TraceExporter[];
  /** `OTEL_BSP_SCHEDULE_DELAY` in milliseconds, when set to a valid number. */
  readonly batchDelayMs: number | undefined;
  /** `OTEL_LOG_LEVEL`: where the SDK says why it does not propagate, say. */
  readonly logLevel: LogLevel | undefined;
  /** One line each, for stderr: what was rejected and what is used instead. */
  readonly warnings: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Unset and empty mean the same (the specification: "empty value ... MUST be treated as unset"). */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

function readPropagators(env: Env, warnings: string[]): SupportedPropagator[] {
  const raw = read(env, 'OTEL_PROPAGATORS');
  if (raw === undefined) return [...DEFAULT_PROPAGATORS];
  const names = list(raw);
  if (names.includes('none')) {
    if (names.length > 1) {
      warnings.push(
        `OTEL_PROPAGATORS=${JSON.stringify(raw)}: "none" turns propagation off; the other propagators are ignored`,
      );
    }
    return [];
  }
  const chosen: SupportedPropagator[] = [];
  for (const name of names) {
    if (isOneOf(SUPPORTED_PROPAGATORS, name)) {
      if (!chosen.includes(name)) chosen.push(name);
    } else if (UNAVAILABLE_PROPAGATORS.includes(name)) {
      warnings.push(
        `OTEL_PROPAGATORS: "${name}" is not available in the SDK lanes injects (available: ${SUPPORTED_PROPAGATORS.join(', ')}); ignored`,
      );
    } else {
      warnings.push(
        `OTEL_PROPAGATORS: unknown propagator "${name}" (available: ${SUPPORTED_PROPAGATORS.join(', ')}); ignored`,
      );
    }
  }
  return chosen;
}

function readSampler(env: Env, warnings: string[]): { sampler: SamplerName; ratio: number } {
  const raw = read(env, 'OTEL_TRACES_SAMPLER');
  let sampler = DEFAULT_SAMPLER;
  if (raw !== undefined) {
    const name = raw.toLowerCase();
    if (isOneOf(SAMPLERS, name)) sampler = name;
    else if (REMOTE_SAMPLERS.includes(name)) {
      warnings.push(
        `OTEL_TRACES_SAMPLER: "${name}" needs a remote sampling service local mode does not run; using ${DEFAULT_SAMPLER}`,
      );
    } else {
      warnings.push(
        `OTEL_TRACES_SAMPLER: unknown sampler "${raw}" (known: ${SAMPLERS.join(', ')}); using ${DEFAULT_SAMPLER}`,
      );
    }
  }
  let ratio = 1;
  const arg = read(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (arg !== undefined && sampler.endsWith('traceidratio')) {
    const n = Number(arg);
    if (Number.isNaN(n) || n < 0 || n > 1) {
      warnings.push(
        `OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(arg)}: must be a number between 0 and 1; using 1`,
      );
    } else ratio = n;
  }
  return { sampler, ratio };
}

function readExporters(env: Env, warnings: string[]): TraceExporter[] {
  const endpoint =
    read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const raw = read(env, 'OTEL_TRACES_EXPORTER');
  // Unlike the specification's default (`otlp` to localhost:4318), nothing is exported unless an
  // endpoint is given: local mode runs no collector, and every workload retrying a dead port would
  // only add noise.
  const names = raw === undefined ? (endpoint === undefined ? [] : ['otlp']) : list(raw);
  const exporters: TraceExporter[] = [];
  for (const name of names) {
    if (name === 'none') return [];
    if (name === 'otlp' || name === 'console') {
      if (!exporters.includes(name)) exporters.push(name);
    } else {
      warnings.push(
        `OTEL_TRACES_EXPORTER: "${name}" is not available in the SDK lanes injects (available: otlp, console, none); ignored`,
      );
    }
  }
  if (exporters.includes('otlp')) {
    const protocol =
      read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? read(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
    // A collector's OTLP/HTTP receiver takes JSON and protobuf on the same path, so http/protobuf
    // is served by sending JSON; a gRPC endpoint would not understand either.
    if (protocol === 'grpc') {
      warnings.push(
        'OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not available in the SDK lanes injects (it exports OTLP over HTTP); spans are not exported',
      );
      return exporters.filter((e) => e !== 'otlp');
    }
  }
  return exporters;
}

function readBatchDelay(env: Env, warnings: string[]): number | undefined {
  const raw = read(env, 'OTEL_BSP_SCHEDULE_DELAY');
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    warnings.push(`OTEL_BSP_SCHEDULE_DELAY=${JSON.stringify(raw)}: not a number of ms; ignored`);
    return undefined;
  }
  return n;
}

function readLogLevel(env: Env, warnings: string[]): LogLevel | undefined {
  const raw = read(env, 'OTEL_LOG_LEVEL');
  if (raw === undefined) return undefined;
  const level = raw.toLowerCase();
  if (isOneOf(LOG_LEVELS, level)) return level;
  warnings.push(
    `OTEL_LOG_LEVEL: unknown level "${raw}" (known: ${LOG_LEVELS.join(', ')}); ignored`,
  );
  return undefined;
}

export function readOtelPlan(env: Env): OtelPlan {
  const warnings: string[] = [];
  const disabled = read(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true';
  const propagators = readPropagators(env, warnings);
  const { sampler, ratio } = readSampler(env, warnings);
  const exporters = readExporters(env, warnings);
  const batchDelayMs = readBatchDelay(env, warnings);
  const logLevel = readLogLevel(env, warnings);
  return { disabled, propagators, sampler, ratio, exporters, batchDelayMs, logLevel, warnings };
}
