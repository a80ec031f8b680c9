#!/usr/bin/env node
/**
 * `lanes`: the command line of the local mesh, and of lanes on Kubernetes. The local mesh's
 * commands talk to the daemon's control API (`src/controlplane/local/protocol.ts`) through
 * `client.ts`; `up` and `down` start and stop the daemon itself (`launch.ts`); `mock`, `render`,
 * `install` and `uninstall` need no daemon; `controller` talks to a Kubernetes API server.
 *
 * `run()` is the whole CLI over an injected `CliIo`, so tests run it in-process; only the block
 * at the end touches `process`. Command modules are imported when their command runs, so
 * `lanes --version` or a usage error loads almost nothing.
 */
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { didYouMean } from '../../config/schema/did-you-mean.ts';
import { type CliIo, type CommandContext, UsageError } from './io.ts';
import { report } from './report.ts';

export type { CliIo } from './io.ts';

type Handler = (ctx: CommandContext) => Promise<number>;

interface Command {
  readonly summary: string;
  readonly load: () => Promise<Handler>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  up: {
    summary: 'start the local mesh daemon (--detach: in the background)',
    load: async () => (await import('./commands/up.ts')).up,
  },
  down: {
    summary: 'stop the daemon and every workload it runs',
    load: async () => (await import('./commands/up.ts')).down,
  },
  apply: {
    summary: 'create or update resources from files, directories or stdin',
    load: async () => (await import('./commands/apply.ts')).apply,
  },
  delete: {
    summary: 'delete resources by file, or by kind and name',
    load: async () => (await import('./commands/apply.ts')).remove,
  },
  get: {
    summary: 'list resources of a kind',
    load: async () => (await import('./commands/get.ts')).get,
  },
  describe: {
    summary: 'show a resource in detail: conditions, notes, instances, manifest',
    load: async () => (await import('./commands/get.ts')).describe,
  },
  status: {
    summary: 'gateways with their URLs, workloads and lanes',
    load: async () => (await import('./commands/status.ts')).status,
  },
  logs: {
    summary: "print a workload's log (-f to follow)",
    load: async () => (await import('./commands/logs.ts')).logs,
  },
  requests: {
    summary: 'recent requests, hop by hop (-f to follow)',
    load: async () => (await import('./commands/requests.ts')).requests,
  },
  explain: {
    summary: 'where a request would go, hop by hop, and why',
    load: async () => (await import('./commands/explain.ts')).explain,
  },
  release: {
    summary: 'watch and steer gray releases: status [-w], approve, pause, resume, promote, abort',
    load: async () => (await import('./commands/release.ts')).release,
  },
  override: {
    summary: 'sign a per-request override (for service S use lane L), or rotate its key',
    load: async () => (await import('./commands/override.ts')).override,
  },
  dashboard: {
    summary: 'the URL of the live dashboard (--open: open it in a browser)',
    load: async () => (await import('./commands/dashboard.ts')).dashboard,
  },
  mock: {
    summary: 'run the built-in mock service in the foreground',
    load: async () => (await import('./commands/mock.ts')).mock,
  },
  render: {
    summary: 'print the stock Istio objects that carry the lanes of files (render istio)',
    load: async () => (await import('./commands/render.ts')).render,
  },
  install: {
    summary: 'print what runs lanes in a Kubernetes cluster (kubectl apply -f -)',
    load: async () => (await import('./commands/install.ts')).install,
  },
  uninstall: {
    summary: 'print what removes the lanes controller (kubectl delete -f -)',
    load: async () => (await import('./commands/install.ts')).uninstall,
  },
  controller: {
    summary: 'run the control plane in a Kubernetes cluster (what install deploys)',
    load: async () => (await import('./commands/controller.ts')).controller,
  },
};

const GROUPS: readonly (readonly [string, readonly string[]])[] = [
  ['Daemon', ['up', 'down']],
  ['Resources', ['apply', 'delete', 'get', 'describe']],
  [
    'Traffic',
    ['status', 'logs', 'requests', 'explain', 'release', 'override', 'dashboard', 'mock'],
  ],
  ['Kubernetes', ['render', 'install', 'uninstall', 'controller']],
];

function globalHelp(): string {
  const groups = GROUPS.map(
    ([title, names]) =>
      `${title}:\n${names.map((n) => `  ${n.padEnd(10)} ${COMMANDS[n]?.summary ?? ''}`).join('\n')}`,
  ).join('\n\n');
  return `lanes: traffic lanes on one machine (per-developer environments, full-chain gray releases)

Usage: lanes [--state DIR] COMMAND [ARGS] [FLAGS]

${groups}

Global flags:
      --state DIR   the daemon's state directory (default $LANES_HOME, else ./.lanes)
  -h, --help        help for lanes, or for a command (lanes COMMAND --help)
      --version     print the version

Exit codes: 0 success, 1 failure, 2 usage error.
`;
}

/** Runs one command line; resolves with the exit code. Never throws. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    return report(error, io);
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  // Global flags come before the command; after it, each command parses its own (`lanes mock
  // --version v2` is the mock's version).
  let state: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      io.stdout.write(globalHelp());
      return 0;
    }
    if (arg === '--version') {
      io.stdout.write(`lanes ${version()}\n`);
      return 0;
    }
    if (arg === '--state' || arg.startsWith('--state=')) {
      const value = arg === '--state' ? argv[++i] : arg.slice('--state='.length);
      if (value === undefined || value === '') throw new UsageError('--state needs a directory');
      state = value;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(
        `unknown flag ${arg.split('=', 1)[0]} before the command; global flags are --state, --help, --version`,
      );
    }
    break;
  }
  const name = argv[i];
  if (name === undefined) {
    io.stdout.write(globalHelp());
    return 0;
  }
  const args = argv.slice(i + 1);
  if (name === 'help') {
    const topic = args[0];
    if (topic === undefined) {
      io.stdout.write(globalHelp());
      return 0;
    }
    return dispatch([topic, '--help'], io);
  }
  if (name === 'version') {
    io.stdout.write(`lanes ${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    const guess = didYouMean(name, Object.keys(COMMANDS));
    throw new UsageError(
      `unknown command ${JSON.stringify(name)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}; commands: ${Object.keys(COMMANDS).join(', ')}`,
    );
  }
  const handler = await command.load();
  return handler({ io, args, globalState: state });
}

function version(): string {
  const pkg = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

if (import.meta.main) {
  // Node caches the stripped TypeScript of the command modules (in $NODE_COMPILE_CACHE, else its
  // default under the temp directory): a warm `lanes get` starts in about half the time.
  enableCompileCache();
  // `lanes get … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    process.exit(error.code === 'EPIPE' ? 0 : 1);
  });
  const code = await run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    // Touched only by `-f -`: creating process.stdin early costs startup time.
    stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
    env: process.env,
    cwd: process.cwd(),
  });
  process.exit(code);
}
