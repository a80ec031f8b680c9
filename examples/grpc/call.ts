/**
 * One gRPC call to the mock chain through a gateway, with optional metadata, printing the answer:
 *
 *     npx node examples/grpc/call.ts <gateway URL or host:port> [name=value …]
 *     npx node examples/grpc/call.ts http://127.0.0.1:40123 x-gray=true
 *
 * The call is `lanes.mock.Mock/Call` with the text `hello`, made with @grpc/grpc-js (a dependency
 * of lanes) in plaintext HTTP/2. A failed call prints its status, details and the mesh's error
 * code (`x-lanes-error`, when the mesh answered it) on stderr and exits 1. Run it with the Node.js
 * 24 that `npm ci` installed (`npx node`): it imports lanes' TypeScript directly.
 */
import { type ServiceError, status } from '@grpc/grpc-js';
import { callMockOnce } from '../../src/controlplane/local/mock/grpc.ts';

const USAGE = 'usage: node examples/grpc/call.ts <gateway URL or host:port> [name=value …]';

function authorityOf(target: string): string {
  // `lanes status` prints gateways as http://127.0.0.1:PORT; grpc-js wants host:port.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? new URL(target).host : target;
}

function metadataOf(args: readonly string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      process.stderr.write(`metadata must be written name=value, got ${JSON.stringify(arg)}\n`);
      process.exit(2);
    }
    metadata[arg.slice(0, eq).toLowerCase()] = arg.slice(eq + 1);
  }
  return metadata;
}

const [target, ...rest] = process.argv.slice(2);
if (target === undefined || target === '-h' || target === '--help') {
  process.stderr.write(`${USAGE}\n`);
  process.exit(target === undefined ? 2 : 0);
}

try {
  process.stdout.write(`${await callMockOnce(authorityOf(target), 'hello', metadataOf(rest))}\n`);
} catch (e) {
  const error = e as ServiceError;
  const code = error.metadata?.get('x-lanes-error')[0];
  process.stderr.write(
    `gRPC status ${error.code} ${status[error.code] ?? ''}: ${error.details ?? error.message}${code ? ` (x-lanes-error: ${code})` : ''}\n`,
  );
  process.exit(1);
}
