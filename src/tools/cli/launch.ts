/**
 * `lanes up` and `lanes down`. `up` starts the daemon (src/controlplane/local/main.ts) as its own Node
 * process — in the foreground (Ctrl-C stops the mesh) or detached (`-d`, logging to
 * <state>/daemon.log) — waits until it reports ready over the IPC channel, prints where the
 * gateways listen, and runs what the caller wants done once it is ready (`--apply`). `down` asks the
 * daemon to stop every workload and waits until its process is gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusResponse } from '../../controlplane/local/protocol.ts';
import type { DaemonReport } from '../../controlplane/local/ready.ts';
import { StateDir, StateError } from '../../controlplane/local/state/state.ts';
import {
  isProcessAlive,
  PID_FILE,
  readDaemonInfo,
} from '../../controlplane/local/state/state-dir.ts';
import { cleanupOrphans } from '../../controlplane/local/workloads/supervisor.ts';
import { connect } from './client.ts';
import type { DownOptions, UpOptions } from './launch-types.ts';
import { movedNote } from './render.ts';

const DAEMON_MAIN = fileURLToPath(new URL('../../controlplane/local/main.ts', import.meta.url));
/** This CLI, which the daemon puts on its instances' PATH as `lanes`. */
const CLI_MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
/**
 * Restoring nine workloads takes a second or two. The daemon itself waits at most 60 s for
 * restored workloads (then reports those still starting and carries on), so this only catches a
 * daemon that hangs.
 */
const READY_TIMEOUT_MS = 120_000;
/**
 * Stopping waits for an apply in progress (up to a minute) and each workload's grace period
 * (30 s unless its pod says otherwise): `down` says it is waiting, and gives up only on a hang.
 */
const STOP_TIMEOUT_MS = 300_000;
const STOP_PROGRESS_MS = 5_000;

/**
 * V8 flags for the daemon: a small young generation keeps the proxies' RSS near 100 MB under
 * load (the default grows it to ~160 MB for no throughput gain; see README, Benchmark).
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=4'];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function complain(line: string): void {
  process.stderr.write(`lanes: ${line}\n`);
}

function gatewayLines(gateways: StatusResponse['gateways']): string[] {
  if (gateways.length === 0) return ['  no gateways yet: apply an Istio Gateway to get a listener'];
  return gateways.map(
    (g) =>
      `  gateway ${g.namespace}/${g.name}${g.cluster === 'default' ? '' : ` (cluster ${g.cluster})`}: ${g.url}${g.movedFrom === undefined ? '' : ` ${movedNote(g.movedFrom)}`}`,
  );
}

/** Resolves with the daemon's report, or a failure when it exits or hangs before reporting. */
function awaitReport(child: ChildProcess, logFile: string | undefined): Promise<DaemonReport> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      resolve({
        type: 'failed',
        error: `the daemon did not get ready within ${READY_TIMEOUT_MS / 1000} s${logFile ? `; see ${logFile}` : ''}`,
      });
    }, READY_TIMEOUT_MS);
    const done = (report: DaemonReport) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(report);
    };
    const onMessage = (message: unknown) => {
      const report = message as DaemonReport;
      // The daemon's message is one line; where the details are is the launcher's to know.
      done(
        report.type === 'failed' && logFile
          ? { ...report, error: `${report.error} (details in ${logFile})` }
          : report,
      );
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      done({
        type: 'failed',
        error: `the daemon ${why} before it was ready${logFile ? `; see ${logFile}` : ''}`,
      });
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function printGateways(stateDir: string): Promise<void> {
  const status = await connect(stateDir).status();
  for (const line of gatewayLines(status.gateways)) say(line);
}

async function answers(stateDir: string): Promise<boolean> {
  try {
    await connect(stateDir).status();
    return true;
  } catch {
    return false;
  }
}

export async function up(opts: UpOptions): Promise<number> {
  let state: StateDir;
  try {
    // Opened here first: a foreign directory is refused before anything (daemon.log) is written.
    state = StateDir.open(opts.stateDir);
  } catch (error) {
    if (error instanceof StateError) {
      complain(error.message);
      return 1;
    }
    throw error;
  }
  const current = readDaemonInfo(state.dir);
  // A live pid is not proof: after a reboot it may be anyone's. The daemon answering is.
  if (current.status === 'running' && (await answers(state.dir))) {
    if (!opts.detach) {
      complain(
        `a lanes daemon (pid ${current.info.pid}) is already running for ${state.dir}; stop it with \`lanes down\`, or use another --state`,
      );
      return 1;
    }
    say(`lanes is already up (daemon pid ${current.info.pid}, state ${state.dir})`);
    const code = (await opts.afterReady?.()) ?? 0;
    if (!opts.quiet) await printGateways(state.dir);
    return code;
  }
  if (current.status !== 'absent' && !opts.quiet) {
    say(
      `the previous daemon (pid ${current.info.pid}) is gone; starting a new one from what ${state.dir} holds`,
    );
  }

  const args = [...DAEMON_NODE_FLAGS, DAEMON_MAIN, '--state', state.dir, '--cli', CLI_MAIN];
  const env = { ...process.env, NODE_COMPILE_CACHE: state.compileCacheDir };
  let child: ChildProcess;
  let logFile: string | undefined;
  if (opts.detach) {
    logFile = state.daemonLog;
    const fd = openSync(logFile, 'a');
    child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', fd, fd, 'ipc'],
      env,
    });
    closeSync(fd);
  } else {
    child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  }
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
  const report = await awaitReport(child, logFile);
  if (report.type === 'failed') {
    complain(report.error);
    return 1;
  }
  if (!opts.quiet) {
    say(
      `lanes is up: daemon pid ${report.pid}, state ${report.stateDir}${report.restored > 0 ? `, ${report.restored} resource(s) restored` : ''}`,
    );
    if (report.orphans > 0)
      say(`  stopped ${report.orphans} workload instance(s) the previous daemon left running`);
  }
  for (const line of report.warnings) complain(`warning: ${line}`);
  const applied = (await opts.afterReady?.()) ?? 0;
  if (!opts.quiet) await printGateways(state.dir);

  if (opts.detach) {
    if (!opts.quiet) say(`  logs: ${logFile}; stop it with \`lanes down\``);
    child.disconnect();
    child.unref();
    return applied;
  }
  if (!opts.quiet) say('  Ctrl-C stops the mesh');
  // Ctrl-C in a terminal reaches the daemon too (same process group); a signal sent to this
  // process alone is passed on, so `kill <lanes up>` also stops the mesh cleanly.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.disconnect();
  const code = await exited;
  return code === 0 ? applied : code;
}

export async function down(opts: DownOptions): Promise<number> {
  const current = readDaemonInfo(opts.stateDir);
  if (current.status === 'absent' && !existsSync(join(opts.stateDir, PID_FILE))) {
    say(`no lanes daemon is running for ${opts.stateDir}`);
    return 0;
  }
  if (current.status !== 'running') {
    // No daemon, or a killed one: workloads it left running (even when daemon.json went with it,
    // as when a daemon dies halfway through stopping) are still ours to stop.
    let state: StateDir;
    try {
      state = StateDir.open(opts.stateDir);
    } catch (error) {
      if (!(error instanceof StateError)) throw error;
      complain(error.message);
      return 1;
    }
    const orphans = await cleanupOrphans(state.pidFile);
    if (current.status === 'stale') state.removeDaemonInfo();
    const left = orphans > 0 ? `; stopped ${orphans} workload instance(s) it left behind` : '';
    say(
      current.status === 'stale'
        ? `the daemon (pid ${current.info.pid}) was not running${left}`
        : `no lanes daemon is running for ${opts.stateDir}${left}`,
    );
    return 0;
  }
  const { pid } = current.info;
  await connect(opts.stateDir).shutdown();
  const asked = Date.now();
  let told = false;
  while (isProcessAlive(pid)) {
    const waited = Date.now() - asked;
    if (waited > STOP_TIMEOUT_MS) {
      complain(
        `the daemon (pid ${pid}) is still running ${STOP_TIMEOUT_MS / 1000} s after it was asked to stop; see ${opts.stateDir}/daemon.log, or \`kill -9 ${pid}\` (the next \`lanes up\` or \`lanes down\` stops the workloads it leaves)`,
      );
      return 1;
    }
    if (!told && waited > STOP_PROGRESS_MS) {
      say(
        `waiting for the daemon (pid ${pid}) to stop its workloads (each gets its grace period)…`,
      );
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  say(`lanes is down (daemon pid ${pid} stopped)`);
  return 0;
}
