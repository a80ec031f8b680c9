/**
 * The mock's gRPC flavour (`protocol: grpc`): the same answer as the HTTP mock — its name and
 * version, then the upstream's answer — over gRPC, so the story can run over gRPC end to end.
 * One method, `lanes.mock.Mock/Call`, whose request and response are `message Text { string
 * text = 1; }` (written out by hand below: one field does not need a protobuf library).
 *
 * It runs on @grpc/grpc-js, loaded with require() so that the OpenTelemetry SDK local mode
 * injects (its grpc instrumentation hooks require) propagates `baggage` and `traceparent` from the
 * call it serves to the call it makes, as it does for node:http. The mock's own code forwards no
 * metadata. The upstream call goes through the sidecar the way grpc-js goes through any proxy:
 * `http_proxy` / `grpc_proxy` and CONNECT.
 */
import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';

export const MOCK_METHOD = '/lanes.mock.Mock/Call';

/** `Text { string text = 1; }` on the wire: tag 0x0a, a varint length, the UTF-8 bytes. */
export function encodeText(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length: number[] = [];
  let n = bytes.length;
  while (n >= 0x80) {
    length.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  length.push(n);
  return bytes.length === 0
    ? Buffer.alloc(0)
    : Buffer.concat([Buffer.from([0x0a, ...length]), bytes]);
}

/** Reads field 1 of a `Text` message; other fields are skipped as protobuf requires. */
export function decodeText(buf: Buffer): string {
  let p = 0;
  let text = '';
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; p < buf.length; shift += 7) {
      const b = buf[p++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
    throw new Error('a truncated varint');
  };
  while (p < buf.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const n = varint();
      if (key >>> 3 === 1) text = buf.toString('utf8', p, p + n);
      p += n;
    } else throw new Error(`wire type ${wire} is not supported`);
  }
  return text;
}

function grpcJs(): typeof GrpcJs {
  return createRequire(import.meta.url)('@grpc/grpc-js') as typeof GrpcJs;
}

const DEFINITION = {
  call: {
    path: MOCK_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeText,
    requestDeserialize: decodeText,
    responseSerialize: encodeText,
    responseDeserialize: decodeText,
  },
};

/**
 * Calls `lanes.mock.Mock/Call` at `authority` (host:port) and resolves with its text. The text
 * must not be empty: grpc-js sends no message at all for an empty serialisation.
 */
export type GrpcCall = (text: string) => Promise<string>;

interface MockClient {
  call(
    text: string,
    metadata: GrpcJs.Metadata,
    options: GrpcJs.CallOptions,
    callback: (error: GrpcJs.ServiceError | null, answer?: string) => void,
  ): void;
  close(): void;
}

/**
 * `viaEnvProxy`: whether grpc-js may send the call through `grpc_proxy` / `http_proxy`. The mock's
 * own calls must (that proxy is its sidecar); a client calling a gateway on this machine must not
 * hand the call to whatever proxy its shell names (grpc-js exempts only `no_proxy` hosts).
 */
function mockClient(authority: string, viaEnvProxy: boolean): MockClient {
  const grpc = grpcJs();
  const Client = grpc.makeGenericClientConstructor(DEFINITION, 'Mock');
  return new Client(
    authority,
    grpc.credentials.createInsecure(),
    viaEnvProxy ? {} : { 'grpc.enable_http_proxy': 0 },
  ) as unknown as MockClient;
}

function invoke(
  client: MockClient,
  text: string,
  metadata: Readonly<Record<string, string>>,
  options: GrpcJs.CallOptions,
): Promise<string> {
  const md = new (grpcJs().Metadata)();
  for (const [name, value] of Object.entries(metadata)) md.set(name, value);
  return new Promise((resolve, reject) => {
    client.call(text, md, options, (error, answer) =>
      error ? reject(error) : resolve(answer ?? ''),
    );
  });
}

/** A client that keeps its channel for every call: the mock's own upstream calls. */
export function grpcClient(authority: string): GrpcCall {
  const client = mockClient(authority, true);
  return (text) => invoke(client, text, {}, {});
}

/**
 * One call with `metadata` on a channel of its own, closed when the call ends, never through an
 * environment proxy: how a client outside the mesh calls the mock through a gateway
 * (examples/grpc/call.ts, tests). The deadline goes to the server as `grpc-timeout`. Rejects
 * with grpc-js's ServiceError (`code`, `details`, and the trailers in `metadata`).
 */
export async function callMockOnce(
  authority: string,
  text: string,
  metadata: Readonly<Record<string, string>> = {},
  deadlineMs = 10_000,
): Promise<string> {
  const client = mockClient(authority, false);
  try {
    return await invoke(client, text, metadata, { deadline: Date.now() + deadlineMs });
  } finally {
    client.close();
  }
}

export interface GrpcMockServer {
  /** Resolves with the port bound. */
  listen(port: number): Promise<number>;
  /** Lets calls in flight finish, then closes. */
  close(): void;
}

/**
 * Answers every call with `self()` followed by what `upstream` answers (when there is one). A
 * failed upstream call fails this one with the same status, its message prefixed by this hop.
 */
export function createGrpcMockServer(
  self: () => string,
  upstream: GrpcCall | undefined,
): GrpcMockServer {
  const grpc = grpcJs();
  const server = new grpc.Server();
  server.addService(DEFINITION, {
    call: (
      call: GrpcJs.ServerUnaryCall<string, string>,
      callback: GrpcJs.sendUnaryData<string>,
    ) => {
      if (!upstream) {
        callback(null, self());
        return;
      }
      upstream(call.request).then(
        (answer) => callback(null, `${self()}${answer}`),
        (error: GrpcJs.ServiceError) =>
          callback({
            code: error.code ?? grpc.status.UNAVAILABLE,
            details: `${self()} upstream error: ${error.details ?? error.message}`,
            metadata: error.metadata,
          }),
      );
    },
  });
  return {
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
          e ? reject(e) : resolve(p),
        );
      }),
    close: () => server.tryShutdown(() => {}),
  };
}
