/**
 * The sidecar's trace id → lane memory (SPEC §4.2): the inbound side records which lane a trace
 * arrived in, the outbound side reads it back when the app forwards only the trace id.
 *
 * Bounded in size and in lifetime. A Map finds entries by key; a doubly linked list through the
 * entries keeps them in the order they were last recorded, oldest at the head. Because every
 * entry lives for the same `ttlMs` from its last `set`, the head is also the first to expire:
 * expired entries are found by looking at the head only, and eviction at the cap removes the
 * head. Every operation is O(1); the expiry sweep on `set` removes a fixed number at most.
 *
 * Why not the Map's own insertion order: reaching its oldest entry takes an iterator, and in V8
 * an iterator starts at the front of the backing table and steps over every deleted slot left
 * there until the next rehash. Under steady eviction that is tens of thousands of slots per
 * call; the list makes it one pointer.
 *
 * `get` does not refresh recency. Doing so would break "head = recorded longest ago" (and with
 * it the cheap sweep), cost a relink on every outbound read, and let a trace that is only read
 * live forever. An active trace is re-recorded each time a request of it arrives at this
 * sidecar, which is what refreshes it.
 */
import type { TraceMemoryReader } from '../core/engine/types.ts';

export interface TraceMemoryOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** Milliseconds from a clock that does not go backwards (e.g. `performance.now`). */
  readonly now: () => number;
}

export interface TraceMemoryStats {
  readonly size: number;
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly hits: number;
  /** Lookups that found nothing, or found an expired entry. */
  readonly misses: number;
  /** Live entries removed to make room (the cap, or a smaller cap from `configure`). */
  readonly evictions: number;
  /** Entries removed because their lifetime had passed. */
  readonly expirations: number;
}

class Entry {
  readonly key: string;
  lane: string;
  /** When the entry was last recorded. */
  at: number;
  /** Recorded earlier (toward the head). */
  prev: Entry | undefined = undefined;
  /** Recorded later (toward the tail). */
  next: Entry | undefined = undefined;

  constructor(key: string, lane: string, at: number) {
    this.key = key;
    this.lane = lane;
    this.at = at;
  }
}

/** Expired entries a `set` removes at most: a burst of expiries is spread over many calls. */
const SWEEP_PER_SET = 8;

function checkLimits(maxEntries: number, ttlMs: number): void {
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
    throw new RangeError(`trace memory maxEntries must be an integer >= 0, got ${maxEntries}`);
  }
  if (!(ttlMs >= 0)) throw new RangeError(`trace memory ttlMs must be >= 0, got ${ttlMs}`);
}

export class TraceMemory implements TraceMemoryReader {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #maxEntries: number;
  #ttlMs: number;
  /** Recorded longest ago. */
  #head: Entry | undefined;
  /** Recorded last. */
  #tail: Entry | undefined;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;

  constructor(opts: TraceMemoryOptions) {
    checkLimits(opts.maxEntries, opts.ttlMs);
    this.#maxEntries = opts.maxEntries;
    this.#ttlMs = opts.ttlMs;
    this.#now = opts.now;
  }

  get(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#misses++;
      return undefined;
    }
    if (this.#now() - entry.at >= this.#ttlMs) {
      this.#remove(entry);
      this.#expirations++;
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    return entry.lane;
  }

  /** Records (or re-records) `key → lane`; the entry's lifetime starts again. */
  set(key: string, lane: string): void {
    if (this.#maxEntries === 0) return;
    const now = this.#now();
    this.#sweep(now, SWEEP_PER_SET);
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      existing.lane = lane;
      existing.at = now;
      if (existing !== this.#tail) {
        this.#unlink(existing);
        this.#append(existing);
      }
      return;
    }
    if (this.#entries.size >= this.#maxEntries) {
      this.#evictOldest(this.#entries.size - this.#maxEntries + 1, now);
    }
    const entry = new Entry(key, lane, now);
    this.#entries.set(key, entry);
    this.#append(entry);
  }

  /**
   * New limits (a new routing table may change the Mesh settings). A smaller cap evicts the
   * oldest entries at once, so the cap holds from this call on; a shorter lifetime applies to
   * the entries already recorded.
   */
  configure(maxEntries: number, ttlMs: number): void {
    checkLimits(maxEntries, ttlMs);
    this.#maxEntries = maxEntries;
    this.#ttlMs = ttlMs;
    if (this.#entries.size > maxEntries) {
      this.#evictOldest(this.#entries.size - maxEntries, this.#now());
    }
  }

  /**
   * Removes up to `limit` expired entries, for a timer off the request path (idle sidecars
   * otherwise keep expired entries until they are read or pushed out). Returns how many.
   */
  prune(limit = Number.POSITIVE_INFINITY): number {
    return this.#sweep(this.#now(), limit);
  }

  stats(): TraceMemoryStats {
    return {
      size: this.#entries.size,
      maxEntries: this.#maxEntries,
      ttlMs: this.#ttlMs,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
    };
  }

  /** Removes expired entries from the head, at most `limit`; stops at the first live one. */
  #sweep(now: number, limit: number): number {
    let removed = 0;
    let head = this.#head;
    while (head !== undefined && removed < limit && now - head.at >= this.#ttlMs) {
      this.#remove(head);
      removed++;
      head = this.#head;
    }
    this.#expirations += removed;
    return removed;
  }

  /** Removes the `count` oldest entries; those already expired count as expirations. */
  #evictOldest(count: number, now: number): void {
    for (let left = count; left > 0 && this.#head !== undefined; left--) {
      const head = this.#head;
      if (now - head.at >= this.#ttlMs) this.#expirations++;
      else this.#evictions++;
      this.#remove(head);
    }
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key);
    this.#unlink(entry);
  }

  #unlink(entry: Entry): void {
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
  }

  #append(entry: Entry): void {
    entry.prev = this.#tail;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
  }
}
