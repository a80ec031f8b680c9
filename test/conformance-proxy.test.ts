/**
 * The conformance suite (conformance/*.yaml) through real gateway and sidecar proxies on real
 * sockets: the same cases, steps and expectations as against the engine. Distributions use fewer
 * samples than the engine runs (real requests cost time) with a tolerance widened to three
 * standard deviations of the smaller sample.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RequestCase, suiteCases } from '../conformance/case.ts';
import { IstioRendering } from '../conformance/istio.ts';
import { MeshState } from '../conformance/mesh-state.ts';
import { ProxyMesh } from '../conformance/proxy-runner.ts';
import { getBaggageValue } from '../src/core/carriers/baggage.ts';
import { fnv1a32 } from '../src/core/engine/hash.ts';
import { AccessLog, type MemorySink, memorySink } from '../src/dataplane/telemetry/access-log.ts';
import { seededRandom } from '../src/util/seeded-random.ts';

const MAX_SAMPLES = 1500;

function varied(r: RequestCase, n: number): Record<string, string> {
  const headers = { ...r.headers };
  for (const [k, v] of Object.entries(r.vary)) headers[k] = v.replaceAll('{n}', String(n));
  return headers;
}

/** The access log of a case's proxies: where the first hop's fallback steps are seen. */
interface Log {
  readonly log: AccessLog;
  readonly sink: MemorySink;
}

async function runRequest(
  mesh: ProxyMesh,
  r: RequestCase,
  { log, sink }: Log,
  rendered = false,
): Promise<void> {
  const e = r.expect;
  if (e.distribution) {
    const samples = Math.min(r.samples, MAX_SAMPLES);
    const counts = new Map<string, number>();
    for (let i = 0; i < samples; i++) {
      const chain = (await mesh.run(r, varied(r, i))).chain.join(' > ');
      counts.set(chain, (counts.get(chain) ?? 0) + 1);
    }
    for (const chain of counts.keys()) {
      assert.ok(
        chain in e.distribution,
        `unexpected chain ${chain} (${counts.get(chain)} of ${samples})`,
      );
    }
    for (const [chain, percent] of Object.entries(e.distribution)) {
      const p = percent / 100;
      const tolerance = Math.max(e.tolerance ?? 2, 300 * Math.sqrt((p * (1 - p)) / samples));
      const got = ((counts.get(chain) ?? 0) * 100) / samples;
      assert.ok(
        Math.abs(got - percent) <= tolerance,
        `${chain}: ${got.toFixed(2)} %, expected ${percent} ± ${tolerance.toFixed(2)}`,
      );
    }
    return;
  }
  if (e.stable) {
    let inside = 0;
    const samples = Math.min(r.samples, 200);
    for (let n = 0; n < samples; n++) {
      const a = (await mesh.run(r, varied(r, n))).chain.includes(e.stable);
      const b = (await mesh.run(r, varied(r, n))).chain.includes(e.stable);
      assert.equal(b, a, `key ${JSON.stringify(varied(r, n))} moved`);
      if (a) inside++;
    }
    assert.ok(inside > 0 && inside < samples);
    return;
  }
  log.flush();
  const logged = sink.entries().length;
  const answer = await mesh.run(r, r.headers);
  if (e.chain) assert.deepEqual(answer.chain, e.chain);
  // Fallback steps and overrides are lanes' reasoning; Istio objects route without it.
  if ((e.fallback || e.override !== undefined) && !rendered) {
    // The entry hop finishes last (it waits for the hops behind it), so its line comes last.
    log.flush();
    const first = sink
      .entries()
      .slice(logged)
      .filter((l) => l.hop === r.entry.kind)
      .at(-1);
    if (e.fallback)
      assert.deepEqual(first?.fallback, e.fallback, "fallback steps in the entry hop's access log");
    if (e.override !== undefined) {
      const got = first?.overrideRejected
        ? `rejected: ${first.overrideRejected}`
        : first?.override
          ? 'followed'
          : 'none';
      assert.equal(got, e.override, "the override in the entry hop's access log");
      // A gateway also tells its client, unless it answered with a mesh error of its own.
      if (r.entry.kind === 'gateway' && answer.headers['x-lanes-error'] === undefined) {
        const told = answer.headers['x-lanes-override'];
        assert.equal(
          typeof told === 'string' ? told.replace(/^followed .*/, 'followed') : 'none',
          e.override,
          'x-lanes-override on the answer',
        );
      }
    }
  }
  if (e.status !== undefined) assert.equal(answer.status, e.status);
  for (const [name, value] of Object.entries(e.headers ?? {})) {
    assert.equal(answer.firstHeaders?.[name] ?? null, value, `header ${name} at the first hop`);
  }
  for (const [key, value] of Object.entries(e.baggage ?? {})) {
    const baggage = answer.firstHeaders?.baggage;
    assert.equal(
      getBaggageValue(typeof baggage === 'string' ? baggage : undefined, key) ?? null,
      value,
      `baggage ${key}`,
    );
  }
}

/** Expectations that cannot hold on a closed machine, with the reason the test is skipped. */
function skipReason(r: RequestCase, rendered = false): string | undefined {
  if (r.expect.chain?.[0] === '!passthrough:')
    return 'a passthrough needs the real external host; this machine has no internet';
  if (rendered && r.istioDiffers !== undefined)
    return `differs on stock Istio: ${r.istioDiffers} (checked at the engine level)`;
  if (rendered && r.istioLimitation !== undefined)
    return `differs on stock Istio: ${r.istioLimitation} (checked at the engine level)`;
  return undefined;
}

const suite = suiteCases();
for (const s of suite.skipped) {
  describe(`conformance (proxies): ${s.name}`, () => it('runs', { skip: s.reason }, () => {}));
}
for (const c of suite.cases) {
  describe(`conformance (proxies): ${c.name}`, () => {
    const state = new MeshState(c);
    const sink = memorySink();
    const log = new AccessLog(sink, { flushBytes: 1, flushMs: 1 });
    const mesh = new ProxyMesh(state, seededRandom(fnv1a32(c.name)), log);
    after(async () => {
      await mesh.close();
      await log.close();
    });
    for (const step of c.steps) {
      describe(step.title, () => {
        before(async () => {
          for (const spec of step.apply) state.apply(spec);
          for (const spec of step.delete) state.delete(spec);
          state.setUnhealthy(step.unhealthy);
          if (step.endpoints) state.setExplicitEndpoints(step.endpoints);
          await mesh.sync();
        });
        for (const r of step.requests) {
          const skip = skipReason(r);
          it(r.title, skip ? { skip } : {}, () => runRequest(mesh, r, { log, sink }));
        }
      });
    }
  });
}

for (const c of suiteCases().cases) {
  describe(`conformance (proxies, rendered to Istio): ${c.name}`, () => {
    const rendering = new IstioRendering({ edgeExtension: 'EnvoyFilter' });
    const state = new MeshState(c, rendering.transform);
    const sink = memorySink();
    const log = new AccessLog(sink, { flushBytes: 1, flushMs: 1 });
    const mesh = new ProxyMesh(state, seededRandom(fnv1a32(c.name)), log, rendering.gatewayFilter);
    after(async () => {
      await mesh.close();
      await log.close();
    });
    for (const step of c.steps) {
      describe(step.title, () => {
        before(async () => {
          for (const spec of step.apply) state.apply(spec);
          for (const spec of step.delete) state.delete(spec);
          state.setUnhealthy(step.unhealthy);
          if (step.endpoints) state.setExplicitEndpoints(step.endpoints);
          await mesh.sync();
        });
        for (const r of step.requests) {
          const skip = skipReason(r, true);
          it(r.title, skip ? { skip } : {}, () => runRequest(mesh, r, { log, sink }, true));
        }
      });
    }
  });
}
