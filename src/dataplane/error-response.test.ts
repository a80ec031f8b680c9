import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorBody, reasonPhrase } from './error-response.ts';

describe('errorBody', () => {
  test('names the code, the service, the lane, what was tried and the hop, a line each', () => {
    const body = errorBody({
      code: 'LANE_NO_ENDPOINTS',
      message: 'no lane has a healthy instance of default/db',
      service: 'default/db',
      lane: 'v2',
      fallback: [
        { lane: 'v2', reason: 'no-healthy-endpoints' },
        { lane: 'stable', reason: 'lacks-service' },
      ],
      hop: 'sidecar outbound default/cart',
      keepAlive: true,
    });
    assert.equal(
      body,
      [
        'lanes: LANE_NO_ENDPOINTS: no lane has a healthy instance of default/db',
        'service: default/db',
        'lane: v2',
        'tried: v2 (no healthy endpoints), stable (lacks service)',
        'hop: sidecar outbound default/cart',
        '',
      ].join('\n'),
    );
  });

  test('control characters from a request become spaces, so nothing can split the response', () => {
    const body = errorBody({
      code: 'NO_ROUTE',
      message: 'no route for "a\r\nx-evil: 1"',
      service: 'default/a\r\nb',
      lane: 'v\u0000',
      fallback: [],
      hop: 'gateway default/gw:80',
      keepAlive: false,
    });
    assert.equal(
      body,
      [
        'lanes: NO_ROUTE: no route for "a  x-evil: 1"',
        'service: default/a  b',
        'lane: v ',
        'hop: gateway default/gw:80',
        '',
      ].join('\n'),
    );
  });
});

describe('reasonPhrase', () => {
  const cases: [number, string][] = [
    [503, 'Service Unavailable'],
    [431, 'Request Header Fields Too Large'],
    [301, 'Moved Permanently'],
    [299, 'Unknown'],
  ];
  for (const [status, phrase] of cases) {
    test(`${status} reads "${phrase}"`, () => assert.equal(reasonPhrase(status), phrase));
  }
});
