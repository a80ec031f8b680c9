/**
 * The OpenTelemetry SDK local mode injects into Node workloads: the local equivalent of the
 * OpenTelemetry Operator's Node.js injection (SPEC §6). Loaded before the app with
 * `NODE_OPTIONS="--import file:///…/src/controlplane/local/otel/register.ts"` (see `env.ts`), it makes node:http
 * forward W3C `baggage` and `traceparent` (or b3) from each incoming request to the requests the
 * app sends while handling it, with no change to the app. That is what keeps the lane tag on the
 * request across an application hop. The same holds for calls made with `fetch()` (undici
 * instrumentation, on Node's diagnostics channels) and with @grpc/grpc-js loaded by require()
 * (grpc instrumentation, on the incoming call's metadata and the outgoing call's).
 *
 * Configured by the standard environment variables (`config.ts`). Nothing is exported unless
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_TRACES_EXPORTER`) asks for it; then spans go out as
 * OTLP/HTTP JSON, whose modules are loaded only in that case to keep every workload's startup short.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import {
  context,
  DiagConsoleLogger,
  DiagLogLevel,
  diag,
  propagation,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { SamplerName, SupportedPropagator } from '../../../config/kinds/otel-sdk-names.ts';
import { type OtelPlan, readOtelPlan } from './config.ts';

function warn(message: string): void {
  process.stderr.write(`lanes otel: ${message}\n`);
}

async function propagatorFor(name: SupportedPropagator): Promise<TextMapPropagator> {
  switch (name) {
    case 'tracecontext':
      return new W3CTraceContextPropagator();
    case 'baggage':
      return new W3CBaggagePropagator();
    case 'b3':
    case 'b3multi': {
      // Most workloads never ask for b3: load it only when they do.
      const { B3InjectEncoding, B3Propagator } = await import('@opentelemetry/propagator-b3');
      const injectEncoding =
        name === 'b3' ? B3InjectEncoding.SINGLE_HEADER : B3InjectEncoding.MULTI_HEADER;
      return new B3Propagator({ injectEncoding });
    }
  }
}

function samplerFor(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

async function spanProcessors(plan: OtelPlan): Promise<SpanProcessor[]> {
  const processors: SpanProcessor[] = [];
  for (const exporter of plan.exporters) {
    if (exporter === 'console') {
      processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
    } else {
      // Reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT / _HEADERS / _TIMEOUT itself.
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      processors.push(
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter(),
          scheduledDelayMillis: plan.batchDelayMs,
        }),
      );
    }
  }
  return processors;
}

async function install(plan: OtelPlan): Promise<void> {
  // Carries the active span and baggage from the incoming request's handler into the requests
  // it sends, across callbacks and awaits.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

  // No propagator at all (`none`) leaves the API's no-op one: nothing is extracted or injected.
  if (plan.propagators.length > 0) {
    const propagators = await Promise.all(plan.propagators.map(propagatorFor));
    propagation.setGlobalPropagator(new CompositePropagator({ propagators }));
  }

  const processors = await spanProcessors(plan);
  let resource: Resource | undefined;
  if (processors.length > 0) {
    // Only exported spans need a service name (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
    const r = await import('@opentelemetry/resources');
    resource = r.defaultResource().merge(
      r.detectResources({
        detectors: [r.resourceAttributesEnvDetector, r.serviceNameEnvDetector],
      }),
    );
  }
  const provider = new TracerProvider({
    sampler: samplerFor(plan.sampler, plan.ratio),
    spanProcessors: processors,
    resource,
  });
  trace.setGlobalTracerProvider(provider);
  if (processors.length > 0) {
    // Best effort: flush what is batched when the app ends on its own. Signals and
    // process.exit() are left alone; handling them here would change how the app exits.
    process.once('beforeExit', () => {
      provider.shutdown().catch((err: unknown) => warn(`flushing spans failed: ${String(err)}`));
    });
  }

  // Constructing it enables it: it hooks require() for http and https.
  new HttpInstrumentation();
  // fetch(): Node's bundled undici reports every request on diagnostics channels, which the
  // undici instrumentation subscribes to; without it a fetch() call forwards nothing.
  const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici');
  new UndiciInstrumentation();
  // gRPC: hooks require('@grpc/grpc-js') when the app loads it (CommonJS, as grpc-js is).
  const { GrpcInstrumentation } = await import('@opentelemetry/instrumentation-grpc');
  new GrpcInstrumentation();
  // The hook only fires on require(). Requiring the builtins here patches their shared exports
  // object, which `import http from 'node:http'` also gets; syncBuiltinESMExports() then updates
  // the named ESM exports (`import { get } from 'node:http'`). This avoids an ESM loader hook
  // (import-in-the-middle), which would cost every module the app imports.
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');
  syncBuiltinESMExports();
}

const plan = readOtelPlan(process.env);
for (const warning of plan.warnings) warn(warning);
if (plan.logLevel !== undefined) {
  const logLevel = DiagLogLevel[plan.logLevel.toUpperCase() as keyof typeof DiagLogLevel];
  diag.setLogger(new DiagConsoleLogger(), { logLevel });
}
if (!plan.disabled) {
  try {
    await install(plan);
  } catch (err) {
    // A broken SDK must not keep the app from starting; the app then simply forwards nothing.
    warn(`instrumentation not installed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
