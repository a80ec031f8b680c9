import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { STORY_DIR } from '../../../../scripts/story.ts';
import type { InstrumentationSpec } from '../../../config/kinds/otel.ts';
import { loadResources } from '../../../config/load/resources.ts';
import { mergeNodeOptions, NODE_OPTIONS_FRAGMENT, otelEnv, REGISTER_URL } from './env.ts';

describe('otelEnv', () => {
  test('loads register.ts, by file URL, with NODE_OPTIONS', () => {
    assert.match(REGISTER_URL, /^file:\/\/\/.*\/src\/controlplane\/local\/otel\/register\.ts$/);
    assert.equal(NODE_OPTIONS_FRAGMENT, `--import ${REGISTER_URL}`);
  });

  test('without an Instrumentation: the SDK defaults, written out', () => {
    assert.deepEqual(otelEnv(undefined, 'mocka'), {
      OTEL_PROPAGATORS: 'tracecontext,baggage',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_SERVICE_NAME: 'mocka',
      NODE_OPTIONS: NODE_OPTIONS_FRAGMENT,
    });
  });

  test("the story's instrumentation.yaml: baggage only, ratio sampler with its argument", () => {
    const file = join(STORY_DIR, 'instrumentation.yaml');
    const loaded = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
    assert.ok(loaded.ok, JSON.stringify(loaded.issues));
    const spec = loaded.resources[0]!.spec as InstrumentationSpec;
    assert.deepEqual(otelEnv(spec, 'mockb'), {
      OTEL_PROPAGATORS: 'baggage',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '1',
      OTEL_SERVICE_NAME: 'mockb',
      NODE_OPTIONS: NODE_OPTIONS_FRAGMENT,
    });
  });

  test("the spec's env overrides what is derived; its NODE_OPTIONS keeps the SDK", () => {
    const spec: InstrumentationSpec = {
      propagators: ['b3'],
      propagatorsSet: true,
      sampler: { type: 'always_on', argument: undefined },
      env: [
        { name: 'OTEL_PROPAGATORS', value: 'tracecontext' },
        { name: 'OTEL_SERVICE_NAME', value: 'custom' },
        { name: 'NODE_OPTIONS', value: '--max-old-space-size=256' },
        { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://127.0.0.1:4318' },
      ],
    };
    assert.deepEqual(otelEnv(spec, 'mocka'), {
      OTEL_PROPAGATORS: 'tracecontext',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_SERVICE_NAME: 'custom',
      NODE_OPTIONS: `--max-old-space-size=256 ${NODE_OPTIONS_FRAGMENT}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    });
  });
});

describe('mergeNodeOptions', () => {
  test('appends once', () => {
    assert.equal(mergeNodeOptions(undefined, '--import x'), '--import x');
    assert.equal(mergeNodeOptions('  ', '--import x'), '--import x');
    assert.equal(mergeNodeOptions('--inspect', '--import x'), '--inspect --import x');
    assert.equal(mergeNodeOptions('--inspect --import x', '--import x'), '--inspect --import x');
  });
});
