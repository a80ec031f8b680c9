/**
 * The conformance suite (conformance/*.yaml) against the decision engine: every case, every
 * step, every request.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type RequestCase, type StepCase, suiteCases } from '../conformance/case.ts';
import { baggageOf, EngineRunner } from '../conformance/engine-runner.ts';
import { MeshState } from '../conformance/mesh-state.ts';
import { resourceLabel } from '../src/config/resource/resource.ts';
import { fnv1a32 } from '../src/core/engine/hash.ts';
import { seededRandom } from '../src/util/seeded-random.ts';

function checkStatuses(state: MeshState, step: StepCase): void {
  const { statuses } = state.compile();
  for (const want of step.statuses) {
    const m = /^(\S+) (\S+): (\w+)=(True|False)(?:\/(\w+))?$/.exec(want);
    assert.ok(
      m,
      `status expectation ${JSON.stringify(want)} must read "Kind name: Type=Status[/Reason]"`,
    );
    const [, kind, name, type, value, reason] = m;
    const status = statuses.find(
      (s) =>
        (s.id.kind === kind && resourceLabel(s.id).endsWith(` ${name}`)) ||
        (s.id.kind === kind && s.id.name === name),
    );
    assert.ok(status, `no status for ${kind} ${name}`);
    const cond = status.conditions.find((c) => c.type === type);
    assert.equal(cond?.status, value, `${kind} ${name} ${type}: ${cond?.message}`);
    if (reason)
      assert.equal(cond?.reason, reason, `${kind} ${name} ${type} reason: ${cond?.message}`);
  }
}

function varied(r: RequestCase, n: number): Record<string, string> {
  const headers = { ...r.headers };
  for (const [k, v] of Object.entries(r.vary)) headers[k] = v.replaceAll('{n}', String(n));
  return headers;
}

function runRequest(runner: EngineRunner, r: RequestCase): void {
  const seed = fnv1a32(r.title);
  const e = r.expect;
  if (e.distribution) {
    const random = seededRandom(seed);
    const counts = new Map<string, number>();
    for (let i = 0; i < r.samples; i++) {
      const chain = runner.run(r, random, varied(r, i)).chain.join(' > ');
      counts.set(chain, (counts.get(chain) ?? 0) + 1);
    }
    const tolerance = e.tolerance ?? 2;
    for (const chain of counts.keys()) {
      assert.ok(
        chain in e.distribution,
        `unexpected chain ${chain} (${counts.get(chain)} of ${r.samples})`,
      );
    }
    for (const [chain, percent] of Object.entries(e.distribution)) {
      const got = ((counts.get(chain) ?? 0) * 100) / r.samples;
      assert.ok(
        Math.abs(got - percent) <= tolerance,
        `${chain}: ${got.toFixed(2)} %, expected ${percent} ± ${tolerance}`,
      );
    }
    return;
  }
  if (e.stable) {
    // Every key is sent twice with different randomness: its answer must not change.
    let inside = 0;
    for (let n = 0; n < r.samples; n++) {
      const headers = varied(r, n);
      const a = runner.run(r, seededRandom(seed + n), headers).chain.includes(e.stable);
      const b = runner.run(r, seededRandom(seed + n + 7919), headers).chain.includes(e.stable);
      assert.equal(
        b,
        a,
        `key ${JSON.stringify(headers)} moved ${a ? 'out of' : 'into'} ${e.stable}`,
      );
      if (a) inside++;
    }
    assert.ok(
      inside > 0 && inside < r.samples,
      `no key varies: ${inside} of ${r.samples} pass ${e.stable}`,
    );
    return;
  }
  const result = runner.run(r, seededRandom(seed));
  if (e.chain) assert.deepEqual(result.chain, e.chain, `steps:\n${result.first.steps.join('\n')}`);
  if (e.status !== undefined) {
    const status =
      result.first.kind === 'error' || result.first.kind === 'respond' ? result.first.status : 0;
    assert.equal(status, e.status);
  }
  for (const [name, value] of Object.entries(e.headers ?? {})) {
    assert.equal(result.firstHeaders.get(name) ?? null, value, `header ${name}`);
  }
  for (const [key, value] of Object.entries(e.baggage ?? {})) {
    assert.equal(baggageOf(result.firstHeaders, key) ?? null, value, `baggage entry ${key}`);
  }
  if (e.fallback) {
    const fallback =
      result.first.kind === 'forward' || result.first.kind === 'error' ? result.first.fallback : [];
    assert.deepEqual(
      fallback.map((f) => `${f.lane}:${f.reason}`),
      e.fallback,
    );
  }
}

const suite = suiteCases();
for (const s of suite.skipped) {
  describe(`conformance (engine): ${s.name}`, () => it('runs', { skip: s.reason }, () => {}));
}
for (const c of suite.cases) {
  describe(`conformance (engine): ${c.name}`, () => {
    const state = new MeshState(c);
    for (const step of c.steps) {
      describe(step.title, () => {
        let runner: EngineRunner;
        before(() => {
          for (const spec of step.apply) state.apply(spec);
          for (const spec of step.delete) state.delete(spec);
          state.setUnhealthy(step.unhealthy);
          if (step.endpoints) state.setExplicitEndpoints(step.endpoints);
          runner = new EngineRunner(state);
        });
        if (step.statuses.length > 0)
          it('reports the expected statuses', () => checkStatuses(state, step));
        for (const r of step.requests) it(r.title, () => runRequest(runner, r));
      });
    }
  });
}
