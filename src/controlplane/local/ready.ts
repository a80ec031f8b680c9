/**
 * What the daemon process tells the `lanes up` that started it, over the IPC channel: ready (with
 * where everything is), or why it could not start. The launcher prints it; the daemon's own
 * stdout may be a log file nobody is looking at.
 */
import type { StatusResponse } from './protocol.ts';

export type DaemonReport =
  | {
      readonly type: 'ready';
      readonly pid: number;
      readonly api: string;
      readonly stateDir: string;
      readonly gateways: StatusResponse['gateways'];
      /** Workload instances a killed daemon left behind and this one stopped. */
      readonly orphans: number;
      readonly restored: number;
      /** Restored workloads that could not start, or were not ready in time: one line each. */
      readonly warnings: readonly string[];
    }
  | { readonly type: 'failed'; readonly error: string };
