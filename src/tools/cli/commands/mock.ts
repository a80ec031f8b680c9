/** `lanes mock`: the built-in mock service in the foreground (src/controlplane/local/mock/server.ts). */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { type CommandSpec, intFlag, maxPositionals, parseCommand, stringFlag } from '../args.ts';
import { type CommandContext, UsageError } from '../io.ts';

export const mockSpec: CommandSpec = {
  name: 'mock',
  help: `Run the built-in mock service in the foreground (the local stand-in for Alibaba's asm-mock).
It answers every request with '-> APP(version: VERSION, ip: ADDRESS)', followed by the answer
of its upstream when there is one. Each flag defaults to the environment variable the asm-mock
image reads, so a Deployment can run it with 'command: [lanes, mock]' and the usual env.

Usage: lanes mock [--app APP] [--version VERSION] [--upstream URL] [--port P]

Flags:
      --app APP          the service name it answers with (default $app)
      --version VERSION  the version it answers with (default $version)
      --upstream URL     an http:// URL to call and append the answer of (default $upstream_url)
      --port P           the port on 127.0.0.1 (default $PORT, else 8000; 0 picks a free one)
`,
  options: {
    app: { type: 'string' },
    version: { type: 'string' },
    upstream: { type: 'string' },
    port: { type: 'string' },
  },
};

/** asm-mock's port in the published walkthrough. */
const DEFAULT_PORT = 8000;

export async function mock(ctx: CommandContext): Promise<number> {
  const p = parseCommand(mockSpec, ctx);
  if (!p) return 0;
  maxPositionals(mockSpec, p, 0, 'no arguments');
  const env = mockEnv(ctx.io.env, {
    app: stringFlag(p, 'app'),
    version: stringFlag(p, 'version'),
    upstream: stringFlag(p, 'upstream'),
    port: intFlag(p, 'port', 0, 65535),
  });
  const { MOCK_SERVER_PATH } = await import('../../../controlplane/local/mock/server.ts');
  const child = spawn(process.execPath, [MOCK_SERVER_PATH], { stdio: 'inherit', env });
  // A signal sent to us alone (kill PID) must reach the mock too; Ctrl-C reaches both anyway,
  // and ignoring it here lets us wait for the mock's own exit and report it.
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

/**
 * The mock's environment: ours, with the flags as `app`, `version`, `upstream_url`, `PORT`. A flag
 * left out keeps the inherited variable, as the asm-mock image reads them: that is how a workload
 * (`command: [lanes, mock]`, its env, the `PORT` lanes gives it) configures it.
 */
export function mockEnv(
  base: Readonly<Record<string, string | undefined>>,
  flags: {
    app: string | undefined;
    version: string | undefined;
    upstream: string | undefined;
    port: number | undefined;
  },
): Record<string, string | undefined> {
  const app = flags.app ?? nonEmpty(base.app);
  const version = flags.version ?? nonEmpty(base.version);
  const upstream = flags.upstream ?? nonEmpty(base.upstream_url);
  if (!app) throw new UsageError('lanes mock needs --app APP (or $app): the name it answers with');
  if (!version) {
    throw new UsageError(
      'lanes mock needs --version VERSION (or $version): the version it answers with',
    );
  }
  if (upstream !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(upstream);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'http:') {
      const from = flags.upstream !== undefined ? '--upstream' : '$upstream_url';
      throw new UsageError(`${from} must be an http:// URL, got ${JSON.stringify(upstream)}`);
    }
  }
  const port = flags.port ?? portOf(base.PORT) ?? DEFAULT_PORT;
  const env: Record<string, string | undefined> = { ...base, app, version, PORT: String(port) };
  delete env.upstream_url;
  if (upstream !== undefined) env.upstream_url = upstream;
  return env;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535 || !/^\d+$/.test(value)) {
    throw new UsageError(`$PORT must be a port number (0-65535), got ${JSON.stringify(value)}`);
  }
  return n;
}
