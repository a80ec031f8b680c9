/**
 * The conformance suite (conformance/*.yaml) against the decision engine: every case, every
 * step, every request — from the resources as applied, and again from their rendering to stock
 * Istio objects (`lanes render istio`, with the lane kinds removed), where every request must get
 * the same answer as from the original resources unless the case says which unrenderable feature
 * changes it, and the rendering must give exactly the warnings the step expects.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { type RequestCase, type StepCase, suiteCases } from '../conformance/case.ts';
import { baggageOf, type ChainResult, EngineRunner } from '../conformance/engine-runner.ts';
import { IstioRendering } from '../conformance/istio.ts';
import { MeshState } from '../conformance/mesh-state.ts';
import { resourceLabel } from '../src/config/resource/resource.ts';
import { parseBaggage } from '../src/core/carriers/baggage.ts';
import { fnv1a32 } from '../src/core/engine/hash.ts';
import { seededRandom } from '../src/util/seeded-random.ts';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

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

function runRequest(
  runner: EngineRunner,
  r: RequestCase,
  rendered = false,
): ChainResult | undefined {
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
    return undefined;
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
    return undefined;
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
  // What a hop did with an override is lanes' own reasoning too.
  if (e.override !== undefined && !rendered) {
    const o = result.first.kind === 'respond' ? undefined : result.first.override;
    const got =
      o === undefined ? 'none' : o.status === 'followed' ? 'followed' : `rejected: ${o.reason}`;
    assert.equal(got, e.override, `the entry hop's override\n${result.first.steps.join('\n')}`);
  }
  // Fallback steps are lanes' reasoning; Istio objects route without it (the chain says where).
  if (e.fallback && !rendered) {
    const fallback =
      result.first.kind === 'forward' || result.first.kind === 'error' ? result.first.fallback : [];
    assert.deepEqual(
      fallback.map((f) => `${f.lane}:${f.reason}`),
      e.fallback,
    );
  }
  return result;
}

/** Headers as the next hop reads them: baggage by entry, the rest as they are. */
function effective(headers: ReadonlyMap<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of headers) {
    out[k] = k === 'baggage' ? Object.fromEntries(parseBaggage(v).map((m) => [m.key, m.value])) : v;
  }
  return out;
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
        for (const r of step.requests) it(r.title, () => void runRequest(runner, r));
      });
    }
  });

  describe(`conformance (engine, rendered to Istio): ${c.name}`, () => {
    const rendering = new IstioRendering({ edgeExtension: 'EnvoyFilter' });
    const original = new MeshState(c);
    const rendered = new MeshState(c, rendering.transform);
    let expected: readonly string[] = [];
    for (const step of c.steps) {
      describe(step.title, () => {
        let runner: EngineRunner;
        let reference: EngineRunner;
        const wanted = step.istioWarnings ?? expected;
        expected = wanted;
        before(() => {
          for (const state of [original, rendered]) {
            for (const spec of step.apply) state.apply(spec);
            for (const spec of step.delete) state.delete(spec);
            state.setUnhealthy(step.unhealthy);
            if (step.endpoints) state.setExplicitEndpoints(step.endpoints);
          }
          runner = new EngineRunner(rendered, rendering.gatewayFilter);
          reference = new EngineRunner(original);
        });
        it('renders with exactly the expected warnings', () => {
          assert.deepEqual(rendering.warnings, [...wanted].sort());
        });
        for (const r of step.requests) {
          const differs = r.istioDiffers;
          if (differs !== undefined) {
            it(r.title, { skip: `differs on stock Istio: ${differs}` }, () => {});
            it(`${r.title}: differs only for a feature the rendering warns about`, () => {
              assert.ok(
                wanted.some((w) => w.endsWith(`: ${differs}`)),
                `${differs} is among the step's warnings (${wanted.join(', ')})`,
              );
            });
            continue;
          }
          const limitation = r.istioLimitation;
          if (limitation !== undefined) {
            it(r.title, { skip: `differs on stock Istio: ${limitation}` }, () => {});
            it(`${r.title}: differs only by a limitation README.md states`, () => {
              assert.ok(README.includes(limitation), `README.md says: ${limitation}`);
            });
            continue;
          }
          it(r.title, () => {
            const got = runRequest(runner, r, true);
            if (!got) return;
            const want = reference.run(r, seededRandom(fnv1a32(r.title)));
            assert.deepEqual(got.chain, want.chain, 'the same chain as from the lanes resources');
            assert.deepEqual(
              effective(got.firstHeaders),
              effective(want.firstHeaders),
              'the same headers at the first hop',
            );
          });
        }
      });
    }
  });
}
