/**
 * Issue 8 §2 through the real CLI, daemon and workload processes: every request enters lane v2,
 * 4 clients call the gateway, and mockc-v2 — lane v2's only instance of mockc — is killed with
 * SIGKILL three times, each time once it is back and serving (`npm run bench:instance-death`
 * runs the same with five kills). Every request must be answered in lane v2 or by its fallback
 * to the baseline mockc v1: GETs in flight on the dying instance are retried, the sidecar in
 * front of it answers "not delivered" from the moment the supervisor sees the exit, and a retry
 * that finds no other instance in the lane takes the lane's fallback chain.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { teardown } from './support/cli.ts';
import { instanceDeathUnderLoad } from './support/instance-death.ts';

const state = mkdtempSync(join(tmpdir(), 'lanes-instance-death-'));
after(async () => {
  await teardown(state, process.cwd());
  rmSync(state, { recursive: true, force: true });
});

test('killing a lane’s only instance three times under 4 clients fails no request', {
  timeout: 120_000,
}, async () => {
  const r = await instanceDeathUnderLoad({ state, clients: 4, kills: 3 });
  assert.equal(r.kills, 3);
  assert.deepEqual(r.failures, {}, `${r.failed} of ${r.requests} requests failed`);
  assert.ok(r.inLane > 0, 'requests were answered in lane v2 while mockc-v2 was up');
  assert.ok(r.fellBack > 0, 'requests fell back to mockc v1 while it was down');
});
