import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { portProtocol } from './port-protocol.ts';

describe('portProtocol (Istio protocol selection)', () => {
  const cases: [
    name: string | undefined,
    appProtocol: string | undefined,
    expected: 'http' | 'http2',
  ][] = [
    ['grpc', undefined, 'http2'],
    ['grpc-api', undefined, 'http2'],
    ['grpc-web', undefined, 'http2'],
    ['http2', undefined, 'http2'],
    ['http2-internal', undefined, 'http2'],
    ['h2c', undefined, 'http2'],
    ['GRPC', undefined, 'http2'],
    ['http', undefined, 'http'],
    ['http-grpc', undefined, 'http'],
    ['grpcx', undefined, 'http'],
    ['web', undefined, 'http'],
    [undefined, undefined, 'http'],
    // appProtocol wins over the name, either way.
    ['http', 'grpc', 'http2'],
    ['grpc', 'http', 'http'],
    [undefined, 'kubernetes.io/h2c', 'http2'],
    [undefined, 'HTTP2', 'http2'],
    [undefined, 'kubernetes.io/ws', 'http'],
  ];
  for (const [name, appProtocol, expected] of cases) {
    test(`name ${name ?? '(none)'} with appProtocol ${appProtocol ?? '(none)'} speaks ${expected}`, () => {
      assert.equal(portProtocol(name, appProtocol), expected);
    });
  }
});
