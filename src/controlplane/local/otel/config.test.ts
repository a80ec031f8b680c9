import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readOtelPlan } from './config.ts';

describe('readOtelPlan', () => {
  test('defaults: tracecontext,baggage, parentbased_always_on, no exporter', () => {
    assert.deepEqual(readOtelPlan({}), {
      disabled: false,
      propagators: ['tracecontext', 'baggage'],
      sampler: 'parentbased_always_on',
      ratio: 1,
      exporters: [],
      batchDelayMs: undefined,
      logLevel: undefined,
      warnings: [],
    });
    // Empty means unset.
    assert.deepEqual(readOtelPlan({ OTEL_PROPAGATORS: ' ' }).propagators, [
      'tracecontext',
      'baggage',
    ]);
  });

  test('propagators: in the given order, deduplicated, case and spaces ignored', () => {
    const plan = readOtelPlan({ OTEL_PROPAGATORS: ' Baggage, b3 ,b3multi,baggage,tracecontext' });
    assert.deepEqual(plan.propagators, ['baggage', 'b3', 'b3multi', 'tracecontext']);
    assert.deepEqual(plan.warnings, []);
  });

  test('propagators: unknown and unavailable ones are warned about and skipped', () => {
    const plan = readOtelPlan({ OTEL_PROPAGATORS: 'xray,baggage,w3c,ottrace' });
    assert.deepEqual(plan.propagators, ['baggage']);
    assert.deepEqual(plan.warnings, [
      'OTEL_PROPAGATORS: "xray" is not available in the SDK lanes injects (available: tracecontext, baggage, b3, b3multi); ignored',
      'OTEL_PROPAGATORS: unknown propagator "w3c" (available: tracecontext, baggage, b3, b3multi); ignored',
      'OTEL_PROPAGATORS: "ottrace" is not available in the SDK lanes injects (available: tracecontext, baggage, b3, b3multi); ignored',
    ]);
  });

  test('propagators: none turns propagation off', () => {
    assert.deepEqual(readOtelPlan({ OTEL_PROPAGATORS: 'none' }).propagators, []);
    const mixed = readOtelPlan({ OTEL_PROPAGATORS: 'baggage,none' });
    assert.deepEqual(mixed.propagators, []);
    assert.deepEqual(mixed.warnings, [
      'OTEL_PROPAGATORS="baggage,none": "none" turns propagation off; the other propagators are ignored',
    ]);
  });

  test('sampler and its ratio', () => {
    const plan = readOtelPlan({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    assert.equal(plan.sampler, 'parentbased_traceidratio');
    assert.equal(plan.ratio, 0.25);
    // The argument only matters to the ratio samplers.
    assert.deepEqual(
      readOtelPlan({ OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: 'x' }).warnings,
      [],
    );
  });

  test('sampler: bad values fall back with a warning', () => {
    assert.deepEqual(readOtelPlan({ OTEL_TRACES_SAMPLER: 'sometimes' }).warnings, [
      'OTEL_TRACES_SAMPLER: unknown sampler "sometimes" (known: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio); using parentbased_always_on',
    ]);
    const remote = readOtelPlan({ OTEL_TRACES_SAMPLER: 'jaeger_remote' });
    assert.equal(remote.sampler, 'parentbased_always_on');
    assert.deepEqual(remote.warnings, [
      'OTEL_TRACES_SAMPLER: "jaeger_remote" needs a remote sampling service local mode does not run; using parentbased_always_on',
    ]);
    const ratio = readOtelPlan({
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '2',
    });
    assert.equal(ratio.ratio, 1);
    assert.deepEqual(ratio.warnings, [
      'OTEL_TRACES_SAMPLER_ARG="2": must be a number between 0 and 1; using 1',
    ]);
  });

  test('exporters: OTLP only when an endpoint is given, unless asked for', () => {
    assert.deepEqual(readOtelPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).exporters, [
      'otlp',
    ]);
    assert.deepEqual(
      readOtelPlan({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).exporters,
      ['otlp'],
    );
    assert.deepEqual(
      readOtelPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })
        .exporters,
      [],
    );
    assert.deepEqual(readOtelPlan({ OTEL_TRACES_EXPORTER: 'console,otlp' }).exporters, [
      'console',
      'otlp',
    ]);
    const zipkin = readOtelPlan({ OTEL_TRACES_EXPORTER: 'zipkin' });
    assert.deepEqual(zipkin.exporters, []);
    assert.deepEqual(zipkin.warnings, [
      'OTEL_TRACES_EXPORTER: "zipkin" is not available in the SDK lanes injects (available: otlp, console, none); ignored',
    ]);
  });

  test('exporters: OTLP over gRPC is refused, http/protobuf is served with JSON', () => {
    const grpc = readOtelPlan({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    });
    assert.deepEqual(grpc.exporters, []);
    assert.equal(grpc.warnings.length, 1);
    const protobuf = readOtelPlan({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    assert.deepEqual(protobuf.exporters, ['otlp']);
    assert.deepEqual(protobuf.warnings, []);
  });

  test('OTEL_LOG_LEVEL', () => {
    assert.equal(readOtelPlan({ OTEL_LOG_LEVEL: 'DEBUG' }).logLevel, 'debug');
    const bad = readOtelPlan({ OTEL_LOG_LEVEL: 'loud' });
    assert.equal(bad.logLevel, undefined);
    assert.deepEqual(bad.warnings, [
      'OTEL_LOG_LEVEL: unknown level "loud" (known: none, error, warn, info, debug, verbose, all); ignored',
    ]);
  });

  test('OTEL_SDK_DISABLED and OTEL_BSP_SCHEDULE_DELAY', () => {
    assert.equal(readOtelPlan({ OTEL_SDK_DISABLED: 'TRUE' }).disabled, true);
    assert.equal(readOtelPlan({ OTEL_SDK_DISABLED: 'false' }).disabled, false);
    assert.equal(readOtelPlan({ OTEL_BSP_SCHEDULE_DELAY: '200' }).batchDelayMs, 200);
    assert.deepEqual(readOtelPlan({ OTEL_BSP_SCHEDULE_DELAY: 'soon' }).warnings, [
      'OTEL_BSP_SCHEDULE_DELAY="soon": not a number of ms; ignored',
    ]);
  });
});
