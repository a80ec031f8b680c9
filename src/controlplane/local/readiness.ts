/**
 * Whether the instances a change started are ready, and if not, why — in words a user can act
 * on: how the process exited (or that it runs but does not accept connections on its PORT) and
 * the last line it wrote. `apply` and `lanes up` show these as `warning:` lines and carry on: an
 * instance that is not ready is a fact about the app, not a failed change.
 */
import { fileTail } from './file-tail.ts';
import type { InstanceReadiness } from './protocol.ts';
import type { InstanceState } from './workloads/supervisor.ts';
import type { InstanceRecord } from './workloads/workloads.ts';

/**
 * How long `lanes apply` (unless `--wait` says otherwise) and `lanes up` wait for the instances
 * they started to accept connections, before they report the ones that do not and carry on.
 */
export const READY_WAIT_MS = 20_000;

/** How much of the end of a log is read for its last line. */
const TAIL_BYTES = 4096;
const MAX_LINE = 200;

/**
 * The last line the app itself wrote to its log (not the supervisor's `--- lanes: … ---`
 * lines), shortened; undefined when it wrote nothing yet.
 */
export function lastOutputLine(logFile: string): string | undefined {
  const tail = fileTail(logFile, TAIL_BYTES);
  if (tail === undefined) return undefined;
  const lines = tail.text.split('\n');
  // The first line may be cut by the window: skip it unless the window is the whole file.
  if (!tail.whole) lines.shift();
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trimEnd();
    if (line === '' || line.startsWith('--- lanes: ')) continue;
    return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line;
  }
  return undefined;
}

/**
 * Where one instance a change just started stands. A process that exited and came back counts
 * as crashed (its restart count says so), even while it is starting again.
 */
export function readinessOf(
  inst: InstanceRecord,
  state: InstanceState | undefined,
  now: number,
): InstanceReadiness {
  const base = { key: inst.key, workload: inst.workload, index: inst.index };
  if (inst.leaving) return { ...base, state: 'gone', message: 'it was replaced or deleted' };
  const status = state?.status ?? 'starting';
  if (status === 'ready') return { ...base, state: 'ready', message: 'ready' };
  const output = lastOutputLine(inst.logFile);
  const last = output === undefined ? 'no output yet' : `last output: ${JSON.stringify(output)}`;
  const crashed =
    status === 'backoff' ||
    status === 'failed' ||
    ((state?.restarts ?? 0) > 0 && state?.lastExit != null);
  if (crashed) {
    return {
      ...base,
      state: 'crashed',
      message: `${state?.lastExit ?? 'it exited'} and is restarted with backoff; ${last}`,
    };
  }
  if (status === 'stopping' || status === 'stopped')
    return { ...base, state: 'gone', message: 'it is being stopped' };
  const running =
    state?.pid != null && state.startedAt !== null
      ? `running (pid ${state.pid}) for ${((now - state.startedAt) / 1000).toFixed(0)} s`
      : 'starting';
  return {
    ...base,
    state: 'starting',
    message: `${running} but not accepting connections on 127.0.0.1:${inst.appPort} (its $PORT); ${last}`,
  };
}

/** One `lanes apply` / `lanes up` line for an instance that is not ready. */
export function notReadyLine(r: InstanceReadiness): string {
  const name = r.workload.startsWith('default/') ? r.workload.slice(8) : r.workload;
  return `${r.workload} instance ${r.index} is not ready: ${r.message} (lanes logs ${name}${r.index > 0 ? ` --instance ${r.index}` : ''})`;
}
