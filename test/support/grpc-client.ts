/**
 * A gRPC client for tests, on @grpc/grpc-js, run as its own process: makes the four kinds of
 * call to TARGET (with the metadata in METADATA, a JSON object) and prints one JSON line with
 * what came back, or the status of each failure.
 */
import * as grpc from '@grpc/grpc-js';
import { EchoClient, type EchoClientType, type Msg } from './grpc-app.ts';

const client = new EchoClient(
  process.env.TARGET!,
  grpc.credentials.createInsecure(),
) as EchoClientType;
const metadata = JSON.parse(process.env.METADATA ?? '{}') as Record<string, string>;
const md = () => {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) m.set(k, v);
  return m;
};
const failure = (e: grpc.ServiceError) =>
  `error ${e.code} ${e.metadata.get('x-lanes-error')[0] ?? ''}`.trim();

const unary = await new Promise<string>((resolve) =>
  client.unary({ text: 'u' }, md(), (e, r) => resolve(e ? failure(e) : r!.text)),
);
const serverStream = await new Promise<string[]>((resolve) => {
  const out: string[] = [];
  const call = client.serverStream({ text: 's' }, md());
  call.on('data', (m: Msg) => out.push(m.text));
  call.on('error', (e: grpc.ServiceError) => resolve([...out, failure(e)]));
  call.on('end', () => resolve(out));
});
const clientStream = await new Promise<string>((resolve) => {
  const call = client.clientStream(md(), (e, r) => resolve(e ? failure(e) : r!.text));
  for (const t of ['a', 'b', 'c']) call.write({ text: t });
  call.end();
});
const bidi = await new Promise<string[]>((resolve) => {
  const out: string[] = [];
  const call = client.bidi(md());
  call.on('data', (m: Msg) => {
    out.push(m.text);
    // Frame by frame: the next message goes only after the answer to the previous one came back.
    if (out.length < 3) call.write({ text: `b${out.length}` });
    else call.end();
  });
  call.on('error', (e: grpc.ServiceError) => resolve([...out, failure(e)]));
  call.on('end', () => resolve(out));
  call.write({ text: 'b0' });
});
process.stdout.write(`${JSON.stringify({ unary, serverStream, clientStream, bidi })}\n`);
client.close();
