/**
 * Test driver: a Supervisor in a process of its own, for what one test process cannot show.
 *
 *   driver.ts exit-check   Starts instances in every waiting state (ready, backoff, starting,
 *                          failed), calls stopAll() and returns: the process must then exit by
 *                          itself, which proves no timer, socket or child handle is left.
 *   driver.ts daemon       Starts one instance with a pid file, prints "ready <pid>" and stays up
 *                          until the test kills it with SIGKILL (a crashed daemon).
 *
 * Environment: FIXTURES (this directory), LOG_DIR, PID_FILE, PORTS (comma-separated).
 */
import { join } from 'node:path';
import { type InstanceSpec, type InstanceState, Supervisor } from '../supervisor.ts';

const fixtures = String(process.env.FIXTURES);
const logDir = String(process.env.LOG_DIR);
const ports = String(process.env.PORTS).split(',').map(Number);
const port = (i: number) => ports[i] ?? 0;

const spec = (key: string, app: string, p: number, command = process.execPath): InstanceSpec => ({
  key,
  command,
  args: [join(fixtures, app)],
  // LANES_SUPERVISOR_TEST marks the test's processes (its cleanup kills only those).
  env: {
    PATH: process.env.PATH ?? '',
    PORT: String(p),
    LANES_SUPERVISOR_TEST: process.env.LANES_SUPERVISOR_TEST ?? '',
  },
  port: p,
  logFile: join(logDir, `${key}.log`),
  graceMs: 2000,
});

const waiting = new Map<string, (s: InstanceState) => boolean>();
const resolvers = new Map<string, () => void>();
const reached = (key: string, pred: (s: InstanceState) => boolean) =>
  new Promise<void>((resolve) => {
    waiting.set(key, pred);
    resolvers.set(key, resolve);
  });

const supervisor = new Supervisor({
  onChange: (s) => {
    console.log(`change ${s.key} ${s.status}`);
    if (waiting.get(s.key)?.(s)) {
      waiting.delete(s.key);
      resolvers.get(s.key)?.();
    }
  },
  pidFile: process.env.PID_FILE,
  readinessIntervalMs: 50,
  backoff: { initialMs: 5000, maxMs: 10_000, resetAfterMs: 10_000 },
  startTimeoutMs: 60_000,
});

if (process.argv[2] === 'exit-check') {
  const all = Promise.all([
    reached('ready', (s) => s.status === 'ready'),
    reached('backoff', (s) => s.status === 'backoff'),
    reached('failed', (s) => s.status === 'failed'),
  ]);
  supervisor.start(spec('ready', 'listen.ts', port(0)));
  supervisor.start(spec('backoff', 'crash.ts', port(1)));
  supervisor.start(spec('starting', 'idle.ts', port(2)));
  supervisor.start(spec('failed', 'crash.ts', port(3), '/nonexistent/lanes-driver-app'));
  await all;
  console.log(
    `states ${supervisor
      .states()
      .map((s) => `${s.key}=${s.status}`)
      .join(' ')}`,
  );
  await supervisor.stopAll();
  console.log(`stopped all, ${supervisor.states().length} left`);
} else if (process.argv[2] === 'daemon') {
  const ready = reached('orphan', (s) => s.status === 'ready');
  supervisor.start(spec('orphan', 'listen.ts', port(0)));
  await ready;
  console.log(`ready ${supervisor.state('orphan')?.pid}`);
  setInterval(() => {}, 60_000);
} else {
  throw new Error(`unknown mode ${process.argv[2]}`);
}
