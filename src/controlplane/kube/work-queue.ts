/**
 * The controller's work queue: rate-limited and coalescing. Every change of any watched object
 * marks the mesh dirty; one reconcile then takes all of them (a burst of 1,000 pod changes is one
 * or two reconciles, not 1,000), at most once per `minInterval`, and never two at once. A failed
 * reconcile is retried with exponential backoff (doubling from `minBackoff` to `maxBackoff`),
 * reset by a success. The clock and timers are injected so tests can step time.
 */

export interface QueueClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const REAL_CLOCK: QueueClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

export interface QueueOptions {
  readonly minInterval: number;
  readonly minBackoff: number;
  readonly maxBackoff: number;
  readonly clock?: QueueClock;
}

export interface QueueStats {
  readonly marks: number;
  readonly runs: number;
  readonly failures: number;
}

export class CoalescingQueue {
  readonly #work: () => Promise<void>;
  readonly #opts: QueueOptions;
  readonly #clock: QueueClock;
  #dirty = false;
  #running = false;
  #timer: { cancel(): void } | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  #backoff = 0;
  #stopped = false;
  #idle: (() => void)[] = [];
  #marks = 0;
  #runs = 0;
  #failures = 0;

  constructor(work: () => Promise<void>, opts: QueueOptions) {
    this.#work = work;
    this.#opts = opts;
    this.#clock = opts.clock ?? REAL_CLOCK;
  }

  /** Something changed: a reconcile will run (once, however many marks arrive meanwhile). */
  mark(): void {
    if (this.#stopped) return;
    this.#marks++;
    this.#dirty = true;
    this.#schedule();
  }

  get stats(): QueueStats {
    return { marks: this.#marks, runs: this.#runs, failures: this.#failures };
  }

  /** Resolves once nothing is dirty, scheduled or running. */
  idle(): Promise<void> {
    if (!this.#dirty && !this.#running && !this.#timer) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#settle();
  }

  #schedule(): void {
    if (this.#running || this.#timer || !this.#dirty || this.#stopped) return;
    const wait = Math.max(
      this.#backoff,
      this.#lastStart + this.#opts.minInterval - this.#clock.now(),
      0,
    );
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, wait);
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    this.#dirty = false;
    this.#running = true;
    this.#lastStart = this.#clock.now();
    this.#runs++;
    try {
      await this.#work();
      this.#backoff = 0;
    } catch {
      this.#failures++;
      this.#dirty = true;
      this.#backoff = Math.min(
        this.#opts.maxBackoff,
        this.#backoff === 0 ? this.#opts.minBackoff : this.#backoff * 2,
      );
    } finally {
      this.#running = false;
    }
    this.#schedule();
    this.#settle();
  }

  #settle(): void {
    if (this.#dirty && !this.#stopped) return;
    if (this.#running || this.#timer) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
