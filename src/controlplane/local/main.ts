/**
 * The daemon process: `node src/controlplane/local/main.ts --state DIR [--cli MAIN]`, started by `lanes up`
 * (src/tools/cli/launch.ts). It takes the state directory's lock, stops what a killed predecessor
 * left running, restores every applied resource and workload, serves the control API, and
 * writes daemon.json once all of that is done — so anything that finds daemon.json can use it.
 * SIGTERM, SIGINT, SIGHUP (the terminal of a foreground `lanes up` closed) and POST /v1/shutdown
 * stop every workload before it exits.
 */
import { flushCompileCache } from 'node:module';
import { parseArgs } from 'node:util';
import { type ApiServer, startApi } from './api.ts';
import { Daemon } from './daemon.ts';
import { notReadyLine, READY_WAIT_MS } from './readiness.ts';
import type { DaemonReport } from './ready.ts';
import { acquireLock, type DaemonLock } from './state/lock.ts';
import { StateDir, StateError } from './state/state.ts';

/**
 * Tells the launcher, if it is still listening: a `lanes up -d` interrupted before the daemon was
 * ready has closed the channel, and sending on a closed channel would crash a daemon that is
 * otherwise fine. The callback takes any error instead of the process's 'error' event.
 */
function report(message: DaemonReport): void {
  if (process.send && process.connected) process.send(message, undefined, {}, () => {});
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/**
 * Output that can no longer be written must not stop the daemon, least of all halfway through
 * stopping: in `npm start | tee log`, Ctrl-C ends `tee` with everyone else, and the next line
 * the daemon writes ("stopping") fails with EPIPE. Unhandled, that error would end the process
 * after daemon.json is gone and before the workloads are stopped, leaving them running. The
 * daemon's output is a courtesy; it goes on without it (Node ignores SIGPIPE itself).
 */
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { state: { type: 'string' }, cli: { type: 'string' } },
    strict: true,
  });
  if (!values.state) throw new StateError('the daemon needs --state DIR');
  const state = StateDir.open(values.state);
  const lock: DaemonLock = acquireLock(state.dir);
  let starting: ReturnType<typeof Daemon.start> | undefined;
  let api: ApiServer | undefined;
  let stopping: Promise<void> | undefined;

  const shutdown = (why: string): Promise<void> => {
    stopping ??= (async () => {
      log(`stopping (${why})`);
      // daemon.json goes first: from here on the CLI says "not running", not "connection refused".
      state.removeDaemonInfo();
      await api?.close();
      // A signal during the restore still stops what the restore started.
      const daemon = await starting?.then((s) => s.daemon).catch(() => undefined);
      await daemon?.shutdown();
      lock.release();
      log('stopped');
      process.exit(0);
    })();
    return stopping;
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // The launcher going away (its terminal closed) must not take the mesh down with it.
  process.on('disconnect', () => {});

  try {
    const token = state.token();
    starting = Daemon.start(state, { log, ...(values.cli ? { cli: values.cli } : {}) });
    const started = await starting;
    const daemon = started.daemon;
    if (started.orphans > 0)
      log(`stopped ${started.orphans} workload instance(s) a previous daemon left running`);
    // Ready means ready: a `curl` right after `lanes up` must reach restored workloads. Those
    // that cannot start, or not in time, are reported; the rest of the mesh comes up regardless.
    const notReady = (await daemon.ready(started.started, READY_WAIT_MS)).filter(
      (r) => r.state !== 'ready',
    );
    const warnings = [...started.problems, ...notReady.map(notReadyLine)];
    for (const line of warnings) log(`warning: ${line}`);
    if (stopping) return;
    await daemon.serveMetrics();
    api = await startApi(daemon, token, () => void shutdown('lanes down'));
    state.writeDaemonInfo({ pid: process.pid, api: api.url, startedAt: new Date().toISOString() });
    const status = daemon.status();
    log(
      `ready: api ${api.url}, ${daemon.store.resources().length} resource(s), ${status.gateways.length} gateway listener(s)`,
    );
    report({
      type: 'ready',
      pid: process.pid,
      api: api.url,
      stateDir: state.dir,
      gateways: status.gateways,
      orphans: started.orphans,
      restored: daemon.store.resources().length,
      warnings,
    });
    // Node writes its compile cache at exit, which a `kill -9` skips. Written now, every later
    // start finds it warm and never loads the TypeScript stripper (some 30 MB that stays resident).
    flushCompileCache();
  } catch (error) {
    lock.release();
    throw error;
  }
}

main().catch((error: unknown) => {
  // One line for the user (`lanes up` prints it); the stack goes to the daemon's own output.
  const message = error instanceof Error ? error.message : String(error);
  report({
    type: 'failed',
    error: error instanceof StateError ? message : `the daemon failed to start: ${message}`,
  });
  process.stderr.write(
    `lanes daemon: ${error instanceof StateError ? message : ((error as Error).stack ?? message)}\n`,
  );
  // Let the IPC message flush before exiting.
  setTimeout(() => process.exit(1), 50);
});
