import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  escapeLabelValue,
  exposition,
  labelText,
  type MetricFamily,
  negotiate,
} from './exposition.ts';

const FAMILIES: MetricFamily[] = [
  {
    type: 'counter',
    name: 'istio_requests',
    help: 'Requests.',
    series: [{ labels: labelText({ reporter: 'source', lane: 'v2' }), value: 3 }],
  },
  {
    type: 'gauge',
    name: 'lanes_config_version',
    help: 'Version.',
    series: [{ labels: '', value: 7 }],
  },
  {
    type: 'histogram',
    name: 'istio_request_duration_milliseconds',
    help: 'Duration.',
    buckets: [1, 2.5],
    series: [{ labels: labelText({ lane: 'v2' }), counts: [1, 0, 2], sum: 12.5, count: 3 }],
  },
];

describe('exposition', () => {
  test('writes the 0.0.4 text format: _total counters, cumulative buckets with +Inf, _sum and _count', () => {
    assert.equal(
      exposition(FAMILIES, 'prometheus'),
      `# HELP istio_requests_total Requests.
# TYPE istio_requests_total counter
istio_requests_total{reporter="source",lane="v2"} 3
# HELP lanes_config_version Version.
# TYPE lanes_config_version gauge
lanes_config_version 7
# HELP istio_request_duration_milliseconds Duration.
# TYPE istio_request_duration_milliseconds histogram
istio_request_duration_milliseconds_bucket{lane="v2",le="1"} 1
istio_request_duration_milliseconds_bucket{lane="v2",le="2.5"} 1
istio_request_duration_milliseconds_bucket{lane="v2",le="+Inf"} 3
istio_request_duration_milliseconds_sum{lane="v2"} 12.5
istio_request_duration_milliseconds_count{lane="v2"} 3
`,
    );
  });

  test('writes OpenMetrics: counter families without _total, float le, # EOF at the end', () => {
    const text = exposition(FAMILIES, 'openmetrics');
    assert.match(text, /^# TYPE istio_requests counter$/m);
    assert.match(text, /^istio_requests_total\{reporter="source",lane="v2"\} 3$/m);
    assert.match(text, /_bucket\{lane="v2",le="1\.0"\} 1$/m);
    assert.match(text, /_bucket\{lane="v2",le="2\.5"\} 1$/m);
    assert.ok(text.endsWith('# EOF\n'));
  });

  test('a histogram series without labels has only le in its bucket braces', () => {
    const text = exposition(
      [
        {
          type: 'histogram',
          name: 'h',
          help: 'h',
          buckets: [1],
          series: [{ labels: '', counts: [0, 1], sum: 5, count: 1 }],
        },
      ],
      'prometheus',
    );
    assert.match(text, /^h_bucket\{le="\+Inf"\} 1$/m);
    assert.match(text, /^h_sum 5$/m);
  });

  test('escapes backslash, double quote and newline in label values, and nothing else', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(escapeLabelValue('(no lane)'), '(no lane)');
    assert.equal(labelText({ a: 'x"y', b: '' }), 'a="x\\"y",b=""');
  });

  const accepts: [string | undefined, 'prometheus' | 'openmetrics'][] = [
    [undefined, 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
    ],
    ['Application/OpenMetrics-Text', 'openmetrics'],
    ['application/openmetrics-text;q=0, text/plain', 'prometheus'],
  ];
  for (const [accept, format] of accepts) {
    test(`Accept ${JSON.stringify(accept)} gets ${format}`, () => {
      assert.equal(negotiate(accept), format);
    });
  }
});
