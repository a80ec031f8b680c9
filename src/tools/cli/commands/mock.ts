/** `lanes mock`: the built-in mock service in the foreground (src/controlplane/local/mock/server.ts). */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { type CommandSpec, intFlag, maxPositionals, parseCommand, stringFlag } from '../args.ts';
import { type CommandContext, UsageError } from '../io.ts';

export const mockSpec: CommandSpec = {
  name: 'mock',
  help: `Run the built-in mock service in the foreground (the local stand-in for Alibaba's asm-mock).
It answers every request with '-> APP(version: VERSION, ip: ADDRESS)', followed by the answer
of its upstream when --upstream is given.

Usage: lanes mock --app APP --version VERSION [--upstream URL] [--port P]

Flags:
      --app APP          the service name it answers with
      --version VERSION  the version it answers with
      --upstream URL     an http:// URL to call and append the answer of
      --port P           the port on 127.0.0.1 (default 8000; 0 picks a free one)
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

/** The mock's environment: ours, with the flags as `app`, `version`, `upstream_url`, `PORT`. */
export function mockEnv(
  base: Readonly<Record<string, string | undefined>>,
  flags: {
    app: string | undefined;
    version: string | undefined;
    upstream: string | undefined;
    port: number | undefined;
  },
): Record<string, string | undefined> {
  if (!flags.app) throw new UsageError('lanes mock needs --app APP: the name it answers with');
  if (!flags.version) {
    throw new UsageError('lanes mock needs --version VERSION: the version it answers with');
  }
  if (flags.upstream !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(flags.upstream);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'http:') {
      throw new UsageError(
        `--upstream must be an http:// URL, got ${JSON.stringify(flags.upstream)}`,
      );
    }
  }
  const env: Record<string, string | undefined> = {
    ...base,
    app: flags.app,
    version: flags.version,
    PORT: String(flags.port ?? DEFAULT_PORT),
  };
  // The flags alone say where it calls: an inherited upstream_url would be a surprise.
  delete env.upstream_url;
  if (flags.upstream !== undefined) env.upstream_url = flags.upstream;
  return env;
}
