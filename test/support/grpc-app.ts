/**
 * A gRPC app for tests, on @grpc/grpc-js, run as its own process: `Echo` with the four call
 * kinds. Messages are JSON (the codec is the app's business; the framing, HTTP/2 and metadata are
 * grpc-js's). Each answer names the app and its version, then — when UPSTREAM is set — what the
 * upstream answered to the same call, made through grpc-js's own proxy support (`grpc_proxy`,
 * i.e. CONNECT to the sidecar) with the request's `x-lane` metadata forwarded, as a traced app's
 * instrumentation would.
 *
 * env: PORT, NAME, VERSION, UPSTREAM (host:port, optional). Prints "ready" once listening.
 */
import * as grpc from '@grpc/grpc-js';

export interface Msg {
  readonly text: string;
}

const json = {
  serialize: (m: Msg) => Buffer.from(JSON.stringify(m)),
  deserialize: (b: Buffer) => JSON.parse(b.toString('utf8')) as Msg,
};

const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/lanes.test.Echo/${path}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});

export const ECHO = {
  unary: method('Unary', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition;

export const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo');
export type EchoClientType = InstanceType<typeof EchoClient> & {
  unary: (
    m: Msg,
    md: grpc.Metadata,
    cb: (e: grpc.ServiceError | null, r?: Msg) => void,
  ) => grpc.ClientUnaryCall;
  serverStream: (m: Msg, md: grpc.Metadata) => grpc.ClientReadableStream<Msg>;
  clientStream: (
    md: grpc.Metadata,
    cb: (e: grpc.ServiceError | null, r?: Msg) => void,
  ) => grpc.ClientWritableStream<Msg>;
  bidi: (md: grpc.Metadata) => grpc.ClientDuplexStream<Msg, Msg>;
};

if (import.meta.main) {
  const name = process.env.NAME ?? 'app';
  const version = process.env.VERSION ?? 'v1';
  const me = `${name}(${version})`;
  const upstreamTarget = process.env.UPSTREAM;
  const upstream = upstreamTarget
    ? (new EchoClient(upstreamTarget, grpc.credentials.createInsecure()) as EchoClientType)
    : undefined;
  const forward = (call: { metadata: grpc.Metadata }): grpc.Metadata => {
    const md = new grpc.Metadata();
    const lane = call.metadata.get('x-lane')[0];
    if (lane !== undefined) md.set('x-lane', lane);
    return md;
  };
  const viaUpstream = (text: string, md: grpc.Metadata): Promise<string> =>
    new Promise((resolve) => {
      if (!upstream) return resolve('');
      upstream.unary({ text }, md, (e, r) =>
        resolve(e ? ` -> error ${e.code} ${e.details}` : ` -> ${r!.text}`),
      );
    });
  const server = new grpc.Server();
  server.addService(ECHO, {
    unary: async (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      cb(null, {
        text: `${me}:${call.request.text}${await viaUpstream(call.request.text, forward(call))}`,
      });
    },
    serverStream: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      for (let i = 0; i < 3; i++) call.write({ text: `${me}:${call.request.text}#${i}` });
      call.end();
    },
    clientStream: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      const got: string[] = [];
      call.on('data', (m: Msg) => got.push(m.text));
      call.on('end', () => cb(null, { text: `${me}:${got.join('+')}` }));
    },
    bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      call.on('data', (m: Msg) => call.write({ text: `${me}:${m.text}` }));
      call.on('end', () => call.end());
    },
  });
  server.bindAsync(
    `127.0.0.1:${process.env.PORT}`,
    grpc.ServerCredentials.createInsecure(),
    (e) => {
      if (e) throw e;
      process.stdout.write('ready\n');
    },
  );
}
