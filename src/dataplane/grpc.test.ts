import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeGrpcMessage,
  GRPC_STATUS,
  grpcRetriable,
  grpcTimeoutMs,
  httpStatusOfGrpc,
  isGrpcContentType,
} from './grpc.ts';

describe('isGrpcContentType', () => {
  const rows: readonly [string | undefined, boolean][] = [
    ['application/grpc', true],
    ['application/grpc+proto', true],
    ['application/grpc;charset=utf-8', true],
    ['Application/GRPC', true],
    ['application/grpc-web', false],
    ['application/grpc-web+proto', false],
    ['application/grpcx', false],
    ['application/json', false],
    ['application/grp', false],
    [undefined, false],
  ];
  for (const [value, expected] of rows) {
    it(`${JSON.stringify(value)} is ${expected ? '' : 'not '}gRPC`, () => {
      assert.equal(isGrpcContentType(value), expected);
    });
  }
});

describe('grpcTimeoutMs', () => {
  const rows: readonly [string | undefined, number | undefined][] = [
    ['100m', 100],
    ['2S', 2000],
    ['1M', 60_000],
    ['1H', 3_600_000],
    ['1500u', 1.5],
    ['99999999n', 99.999999],
    // Malformed values are ignored, as gRPC servers do: the call runs without a deadline.
    ['123456789m', undefined],
    ['10', undefined],
    ['10s', undefined],
    [' 10m', undefined],
    ['-1m', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [value, expected] of rows) {
    it(`${JSON.stringify(value)} is ${expected === undefined ? 'no deadline' : `${expected} ms`}`, () => {
      assert.equal(grpcTimeoutMs(value), expected);
    });
  }
});

describe('encodeGrpcMessage', () => {
  it('percent-encodes %, controls and UTF-8 bytes, and keeps printable ASCII', () => {
    assert.equal(encodeGrpcMessage('lanes: 100% ok'), 'lanes: 100%25 ok');
    assert.equal(encodeGrpcMessage('a\nb'), 'a%0Ab');
    assert.equal(encodeGrpcMessage('lane é'), 'lane %C3%A9');
  });
});

describe('grpcRetriable', () => {
  it('is true only for a status a listed gRPC retryOn policy names', () => {
    const on = ['unavailable', '5xx'];
    assert.equal(grpcRetriable(on, GRPC_STATUS.UNAVAILABLE), true);
    assert.equal(grpcRetriable(on, GRPC_STATUS.INTERNAL), false);
    assert.equal(grpcRetriable(['internal'], GRPC_STATUS.INTERNAL), true);
    assert.equal(grpcRetriable(['5xx', 'gateway-error'], GRPC_STATUS.UNAVAILABLE), false);
  });
});

describe('httpStatusOfGrpc', () => {
  it("maps every gRPC status as Envoy's grpcToHttpStatus does, and an unknown one to 500", () => {
    const expected: Record<keyof typeof GRPC_STATUS, number> = {
      OK: 200,
      CANCELLED: 499,
      UNKNOWN: 500,
      INVALID_ARGUMENT: 400,
      DEADLINE_EXCEEDED: 504,
      NOT_FOUND: 404,
      ALREADY_EXISTS: 409,
      PERMISSION_DENIED: 403,
      RESOURCE_EXHAUSTED: 429,
      FAILED_PRECONDITION: 400,
      ABORTED: 409,
      OUT_OF_RANGE: 400,
      UNIMPLEMENTED: 501,
      INTERNAL: 500,
      UNAVAILABLE: 503,
      DATA_LOSS: 500,
      UNAUTHENTICATED: 401,
    };
    for (const [name, code] of Object.entries(GRPC_STATUS))
      assert.equal(httpStatusOfGrpc(code), expected[name as keyof typeof GRPC_STATUS], name);
    assert.equal(httpStatusOfGrpc(42), 500);
  });
});
