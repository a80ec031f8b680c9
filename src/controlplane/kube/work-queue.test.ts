import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescingQueue, type QueueClock } from './work-queue.ts';

/** A clock the test steps by hand: timers fire when `advance` passes them. */
function manualClock() {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  const clock: QueueClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return {
        cancel: () => {
          t.live = false;
        },
      };
    },
  };
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      now = next.at;
      next.live = false;
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    now = end;
  };
  return { clock, advance };
}

describe('the coalescing work queue', () => {
  it('runs once for a burst of marks, at most once per interval', async () => {
    const { clock, advance } = manualClock();
    let runs = 0;
    const q = new CoalescingQueue(
      async () => {
        runs++;
      },
      {
        minInterval: 1000,
        minBackoff: 100,
        maxBackoff: 800,
        clock,
      },
    );
    for (let i = 0; i < 1000; i++) q.mark();
    await advance(0);
    assert.equal(runs, 1);
    for (let i = 0; i < 1000; i++) q.mark();
    await advance(999);
    assert.equal(runs, 1, 'not before the interval');
    await advance(1);
    assert.equal(runs, 2, 'the second burst is one more run');
    assert.deepEqual(q.stats, { marks: 2000, runs: 2, failures: 0 });
  });

  it('retries a failed run with doubling backoff, reset by a success', async () => {
    const { clock, advance } = manualClock();
    const starts: number[] = [];
    let fail = 3;
    const q = new CoalescingQueue(
      async () => {
        starts.push(clock.now());
        if (fail-- > 0) throw new Error('conflict');
      },
      { minInterval: 10, minBackoff: 100, maxBackoff: 150, clock },
    );
    q.mark();
    await advance(1000);
    assert.deepEqual(starts, [0, 100, 250, 400]);
    assert.equal(q.stats.failures, 3);
  });

  it('never runs two at once; a mark during a run runs again after it', async () => {
    const { clock, advance } = manualClock();
    let running = 0;
    let most = 0;
    let release: () => void = () => {};
    const q = new CoalescingQueue(
      async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((r) => {
          release = r;
        });
        running--;
      },
      { minInterval: 0, minBackoff: 1, maxBackoff: 1, clock },
    );
    q.mark();
    await advance(0);
    q.mark();
    await advance(0);
    release();
    await new Promise((r) => setImmediate(r));
    await advance(0);
    release();
    await q.idle();
    assert.equal(most, 1);
    assert.equal(q.stats.runs, 2);
  });
});
