import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TraceMemory } from './trace-memory.ts';

/** A memory on a hand-driven clock. */
function memory(maxEntries: number, ttlMs: number) {
  const clock = { t: 0 };
  const mem = new TraceMemory({ maxEntries, ttlMs, now: () => clock.t });
  return { mem, clock };
}

function keys(mem: TraceMemory, candidates: readonly string[]): string[] {
  // Reading changes the counters but not the contents, so tests look at contents this way.
  return candidates.filter((k) => mem.get(k) !== undefined);
}

describe('TraceMemory', () => {
  test('returns the lane recorded for a trace and undefined for an unknown one', () => {
    const { mem } = memory(10, 1000);
    mem.set('t1', 'dev');
    assert.equal(mem.get('t1'), 'dev');
    assert.equal(mem.get('t2'), undefined);
  });

  test('a second set replaces the lane', () => {
    const { mem } = memory(10, 1000);
    mem.set('t1', 'dev');
    mem.set('t1', 'v2');
    assert.equal(mem.get('t1'), 'v2');
    assert.equal(mem.stats().size, 1);
  });

  describe('lifetime', () => {
    const cases = [
      { title: 'an entry is live 1 ms before its lifetime ends', after: 999, lane: 'dev' },
      { title: 'an entry is expired exactly when its lifetime ends', after: 1000, lane: undefined },
      { title: 'an entry is expired after its lifetime', after: 5000, lane: undefined },
    ];
    for (const c of cases) {
      test(c.title, () => {
        const { mem, clock } = memory(10, 1000);
        mem.set('t1', 'dev');
        clock.t += c.after;
        assert.equal(mem.get('t1'), c.lane);
      });
    }

    test('reading an expired entry removes it and counts an expiration and a miss', () => {
      const { mem, clock } = memory(10, 1000);
      mem.set('t1', 'dev');
      clock.t = 1000;
      assert.equal(mem.get('t1'), undefined);
      assert.deepEqual(
        {
          size: mem.stats().size,
          expirations: mem.stats().expirations,
          misses: mem.stats().misses,
        },
        { size: 0, expirations: 1, misses: 1 },
      );
    });

    test('set starts the lifetime again', () => {
      const { mem, clock } = memory(10, 1000);
      mem.set('t1', 'dev');
      clock.t = 900;
      mem.set('t1', 'dev');
      clock.t = 1800;
      assert.equal(mem.get('t1'), 'dev');
    });

    test('get does not extend the lifetime', () => {
      const { mem, clock } = memory(10, 1000);
      mem.set('t1', 'dev');
      clock.t = 900;
      assert.equal(mem.get('t1'), 'dev');
      clock.t = 1000;
      assert.equal(mem.get('t1'), undefined);
    });

    test('a lifetime of 0 keeps nothing', () => {
      const { mem } = memory(10, 0);
      mem.set('t1', 'dev');
      assert.equal(mem.get('t1'), undefined);
    });
  });

  describe('size cap', () => {
    test('the entry recorded longest ago is evicted when the cap is reached', () => {
      const { mem, clock } = memory(2, 1000);
      mem.set('a', '1');
      clock.t = 1;
      mem.set('b', '2');
      clock.t = 2;
      mem.set('c', '3');
      assert.deepEqual(keys(mem, ['a', 'b', 'c']), ['b', 'c']);
      assert.equal(mem.stats().evictions, 1);
    });

    test('set moves an entry to the back, so it outlives entries recorded after it before', () => {
      const { mem } = memory(2, 1000);
      mem.set('a', '1');
      mem.set('b', '2');
      mem.set('a', '1');
      mem.set('c', '3');
      assert.deepEqual(keys(mem, ['a', 'b', 'c']), ['a', 'c']);
    });

    test('get does not move an entry to the back', () => {
      const { mem } = memory(2, 1000);
      mem.set('a', '1');
      mem.set('b', '2');
      mem.get('a');
      mem.set('c', '3');
      assert.deepEqual(keys(mem, ['a', 'b', 'c']), ['b', 'c']);
    });

    test('pushing out an entry that had already expired counts as an expiration', () => {
      const { mem, clock } = memory(1, 1000);
      mem.set('a', '1');
      clock.t = 2000;
      mem.set('b', '2');
      assert.deepEqual(
        { evictions: mem.stats().evictions, expirations: mem.stats().expirations },
        { evictions: 0, expirations: 1 },
      );
    });

    test('a cap of 0 records nothing', () => {
      const { mem } = memory(0, 1000);
      mem.set('a', '1');
      assert.equal(mem.get('a'), undefined);
      assert.equal(mem.stats().size, 0);
    });
  });

  describe('expiry sweep', () => {
    test('a set after a mass expiry removes at most 8 expired entries', () => {
      const { mem, clock } = memory(100_000, 1000);
      for (let i = 0; i < 50_000; i++) mem.set(`t${i}`, 'dev');
      clock.t = 1000;
      mem.set('fresh', 'dev');
      assert.equal(mem.stats().size, 50_000 - 8 + 1);
      assert.equal(mem.stats().expirations, 8);
    });

    test('the sweep stops at the first live entry', () => {
      const { mem, clock } = memory(100, 1000);
      mem.set('old', '1');
      clock.t = 500;
      mem.set('young', '2');
      clock.t = 1000;
      mem.set('new', '3');
      assert.deepEqual(keys(mem, ['old', 'young', 'new']), ['young', 'new']);
      assert.equal(mem.stats().expirations, 1);
    });

    test('prune removes expired entries up to its limit, then all of them', () => {
      const { mem, clock } = memory(100, 1000);
      for (let i = 0; i < 30; i++) mem.set(`t${i}`, 'dev');
      clock.t = 400;
      mem.set('live', 'dev');
      clock.t = 1000;
      assert.equal(mem.prune(10), 10);
      assert.equal(mem.prune(), 20);
      assert.equal(mem.stats().size, 1);
    });
  });

  describe('configure', () => {
    test('a smaller cap evicts the oldest entries at once', () => {
      const { mem } = memory(5, 1000);
      for (const k of ['a', 'b', 'c', 'd', 'e']) mem.set(k, k);
      mem.configure(2, 1000);
      assert.equal(mem.stats().size, 2);
      assert.equal(mem.stats().evictions, 3);
      assert.deepEqual(keys(mem, ['a', 'b', 'c', 'd', 'e']), ['d', 'e']);
    });

    test('a larger cap keeps every entry and allows more', () => {
      const { mem } = memory(2, 1000);
      mem.set('a', '1');
      mem.set('b', '2');
      mem.configure(3, 1000);
      mem.set('c', '3');
      assert.deepEqual(keys(mem, ['a', 'b', 'c']), ['a', 'b', 'c']);
    });

    test('a shorter lifetime applies to entries already recorded', () => {
      const { mem, clock } = memory(10, 10_000);
      mem.set('a', '1');
      clock.t = 600;
      mem.configure(10, 500);
      assert.equal(mem.get('a'), undefined);
      assert.deepEqual(
        { maxEntries: mem.stats().maxEntries, ttlMs: mem.stats().ttlMs },
        { maxEntries: 10, ttlMs: 500 },
      );
    });

    const invalid = [
      { title: 'a negative cap', maxEntries: -1, ttlMs: 1 },
      { title: 'a fractional cap', maxEntries: 1.5, ttlMs: 1 },
      { title: 'a NaN lifetime', maxEntries: 1, ttlMs: Number.NaN },
      { title: 'a negative lifetime', maxEntries: 1, ttlMs: -1 },
    ];
    for (const c of invalid) {
      test(`${c.title} is a RangeError`, () => {
        assert.throws(() => memory(c.maxEntries, c.ttlMs), RangeError);
        assert.throws(() => memory(1, 1).mem.configure(c.maxEntries, c.ttlMs), RangeError);
      });
    }
  });

  test('stats count hits, misses, evictions and expirations', () => {
    const { mem, clock } = memory(2, 1000);
    mem.set('a', '1');
    mem.get('a'); // hit
    mem.get('x'); // miss
    mem.set('b', '2');
    mem.set('c', '3'); // evicts a
    clock.t = 1000;
    mem.get('b'); // expired: miss + expiration
    assert.deepEqual(mem.stats(), {
      size: 1,
      maxEntries: 2,
      ttlMs: 1000,
      hits: 1,
      misses: 2,
      evictions: 1,
      expirations: 1,
    });
  });

  test('agrees with a simple reference model over 50,000 random operations', () => {
    // The model keeps entries in an array, oldest first: obviously right, and O(n).
    const model = {
      list: [] as { key: string; lane: string; at: number }[],
      stats: { hits: 0, misses: 0, evictions: 0, expirations: 0 },
    };
    const cap = 50;
    const ttl = 40;
    const { mem, clock } = memory(cap, ttl);
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 4_294_967_296;
    };
    for (let i = 0; i < 50_000; i++) {
      clock.t += random() < 0.3 ? 1 : 0;
      const key = `t${Math.floor(random() * 120)}`;
      const expired = (e: { at: number }) => clock.t - e.at >= ttl;
      if (random() < 0.5) {
        const lane = `l${i % 3}`;
        mem.set(key, lane);
        let swept = 0;
        while (model.list[0] && swept < 8 && expired(model.list[0])) {
          model.list.shift();
          swept++;
        }
        model.stats.expirations += swept;
        const at = model.list.findIndex((e) => e.key === key);
        if (at >= 0) model.list.splice(at, 1);
        else if (model.list.length >= cap) {
          const oldest = model.list.shift()!;
          if (expired(oldest)) model.stats.expirations++;
          else model.stats.evictions++;
        }
        model.list.push({ key, lane, at: clock.t });
      } else {
        const got = mem.get(key);
        const at = model.list.findIndex((e) => e.key === key);
        let want: string | undefined;
        if (at < 0) model.stats.misses++;
        else if (expired(model.list[at]!)) {
          model.list.splice(at, 1);
          model.stats.misses++;
          model.stats.expirations++;
        } else {
          model.stats.hits++;
          want = model.list[at]!.lane;
        }
        assert.equal(got, want, `operation ${i}: get ${key}`);
      }
    }
    assert.deepEqual(mem.stats(), {
      size: model.list.length,
      maxEntries: cap,
      ttlMs: ttl,
      ...model.stats,
    });
  });

  test('1,000,000 sets into a full memory of 100,000 stay fast', () => {
    // Constant eviction at a large size: the case where walking a Map from its front is slow.
    const { mem } = memory(100_000, 60_000);
    const keys = Array.from({ length: 250_000 }, (_, i) => `4bf92f3577b34da6a3ce929d0e${i}`);
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) mem.set(keys[i % keys.length]!, 'dev');
    const elapsed = performance.now() - started;
    assert.equal(mem.stats().size, 100_000);
    assert.equal(mem.stats().evictions, 900_000);
    // Constant work per set takes well under a second here; a scan per eviction takes minutes.
    assert.ok(elapsed < 10_000, `took ${elapsed.toFixed(0)} ms`);
  });

  test('1,000,000 mixed operations never hold more than the cap and stay fast', () => {
    const cap = 1000;
    const { mem, clock } = memory(cap, 500);
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 4_294_967_296;
    };
    const started = performance.now();
    let over = 0;
    for (let i = 0; i < 1_000_000; i++) {
      // Mostly bursts (the cap evicts), now and then a pause longer than the lifetime.
      clock.t += random() < 0.0002 ? 1000 : 0;
      const key = `t${Math.floor(random() * 5000)}`;
      if (random() < 0.5) mem.set(key, 'dev');
      else mem.get(key);
      if (mem.stats().size > cap) over++;
    }
    const elapsed = performance.now() - started;
    assert.equal(over, 0);
    // Linear work per operation would take minutes here; constant work takes well under a second.
    assert.ok(elapsed < 10_000, `took ${elapsed.toFixed(0)} ms`);
    const s = mem.stats();
    assert.ok(s.hits > 0 && s.evictions > 0 && s.expirations > 0);
  });
});
