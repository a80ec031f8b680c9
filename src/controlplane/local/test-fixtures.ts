/**
 * Test fixtures for the release driver: a mock Deployment, and a driver over fixed resources
 * with a clock the test moves (the compiler gives its tables; no endpoints, no workloads).
 */
import type { Resource } from '../../config/resource/resource.ts';
import { compile } from '../../core/compiler/compile.ts';
import { HopMetrics } from '../../dataplane/telemetry/metrics.ts';
import { ReleaseDriver } from './releases.ts';
import { StateDir } from './state/state.ts';

/** A Deployment of the asm-mock image whose pods are labelled `app` and `version`. */
export const mockDeployment = (app: string, version: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app}-${version} }
spec:
  selector: { matchLabels: { app: ${app}, version: ${version} } }
  template:
    metadata: { labels: { app: ${app}, version: ${version} } }
    spec: { containers: [{ name: c, image: registry-cn-hangzhou.ack.aliyuncs.com/acs/asm-mock:v0.1-java }] }`;

/** A test's clock: `t` ms since the start, observed and wall-clock alike. */
export interface TestClock {
  t: number;
}

/** A driver with its state in `dir`, over `resources`, on `clock`. */
export function testDriver(
  dir: string,
  resources: readonly Resource[],
  clock: TestClock,
  deleteWorkloads: (workloads: readonly string[]) => Promise<void> = async () => {},
): ReleaseDriver {
  const d: ReleaseDriver = new ReleaseDriver({
    state: StateDir.open(dir),
    metrics: new HopMetrics(),
    resources: () => resources,
    table: () => compile(resources, [], { releases: d.routing(resources) }).table,
    compileWith: (releases) => compile(resources, [], { releases }).table,
    publish: () => {},
    deleteWorkloads,
    monotonic: () => clock.t,
    now: () => Date.UTC(2026, 0, 1) + clock.t,
  });
  return d;
}
