/**
 * Recent requests, hop by hop: access-log entries joined by trace id. It observes the one point
 * where every hop ends (telemetry/hop-events.ts, beside the access log and the metrics) and makes
 * each hop's entry with the access log's own `hopEntry`; it is seeded from the end of access.log
 * when the daemon starts, and bounded (the last MAX_HOPS hops). `lanes requests` and the
 * dashboard read it; `follow` hands out each request once its hops have stopped coming.
 */
import { type AccessLogEntry, hopEntry } from '../../dataplane/telemetry/access-log.ts';
import type { HopEnd, HopObserver } from '../../dataplane/telemetry/hop-events.ts';
import { fileTail } from './file-tail.ts';
import type { RecentRequest } from './protocol.ts';

/** Hops kept in memory: at ~400 bytes each, a few MB. */
const MAX_HOPS = 10_000;
/** How much of access.log a starting daemon reads back. */
const SEED_BYTES = 2 * 1024 * 1024;
/** A followed request is complete once no hop of its trace has come for this long. */
export const SETTLE_MS = 750;

/** When a hop's request arrived, in ms since the epoch. */
function startOf(e: AccessLogEntry): number {
  return Date.parse(e.time);
}

/**
 * Groups hops into requests: hops with the same trace id are one request; a hop without one is
 * a request of its own. Hops are in the order they were reached (arrival; an outer hop, which
 * lasts longer, before an inner one that arrived in the same millisecond); requests in the
 * order their first hop arrived.
 */
export function joinHops(entries: readonly AccessLogEntry[]): RecentRequest[] {
  const byTrace = new Map<string, AccessLogEntry[]>();
  const groups: AccessLogEntry[][] = [];
  for (const e of entries) {
    if (e.traceId === undefined) {
      groups.push([e]);
      continue;
    }
    let group = byTrace.get(e.traceId);
    if (!group) {
      group = [];
      byTrace.set(e.traceId, group);
      groups.push(group);
    }
    group.push(e);
  }
  const requests = groups.map((hops) => {
    const sorted = [...hops].sort((a, b) => startOf(a) - startOf(b) || b.durationUs - a.durationUs);
    const first = sorted.find((h) => h.event === undefined) ?? sorted[0]!;
    return {
      traceId: first.traceId ?? null,
      time: first.time,
      method: first.method,
      authority: first.authority,
      path: first.path,
      status: first.status,
      durationUs: first.durationUs,
      tag: first.tag,
      hops: sorted,
    };
  });
  return requests.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

/** Access-log lines back into entries; a line that is not one (cut, foreign) is skipped. */
export function parseEntries(text: string): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const e = JSON.parse(line) as AccessLogEntry;
      if (typeof e.time === 'string' && typeof e.listener === 'string') out.push(e);
    } catch {
      // The first line of a tail read is usually cut.
    }
  }
  return out;
}

export interface RequestQuery {
  /** How many requests, the latest. */
  readonly limit: number;
  /** Only this trace. */
  readonly traceId?: string;
}

export class RecentRequests implements HopObserver {
  #hops: AccessLogEntry[] = [];
  /** Followers, and the traces each is waiting to settle. */
  readonly #followers = new Set<Follower>();

  /** Reads back the end of an access log written before (a restart keeps recent requests). */
  seed(file: string): void {
    // No log yet: nothing to read back. A cut first line is skipped by parseEntries.
    const tail = fileTail(file, SEED_BYTES);
    if (tail !== undefined) this.#hops = parseEntries(tail.text).slice(-MAX_HOPS);
  }

  hopEnded(end: HopEnd): void {
    this.add(hopEntry(end.record, end.outcome, end.endedAt));
  }

  /** One hop, as the access log records it. */
  add(entry: AccessLogEntry): void {
    this.#hops.push(entry);
    // Trim in batches: one splice per thousand hops, not one shift per hop.
    if (this.#hops.length > MAX_HOPS + 1000) this.#hops = this.#hops.slice(-MAX_HOPS);
    for (const f of this.#followers) f.hop(entry);
  }

  recent(q: RequestQuery): RecentRequest[] {
    const hops =
      q.traceId === undefined ? this.#hops : this.#hops.filter((h) => h.traceId === q.traceId);
    return joinHops(hops).slice(-q.limit);
  }

  /** Calls `send` with each request whose hops have stopped coming; returns the unsubscribe. */
  follow(send: (request: RecentRequest) => void, settleMs = SETTLE_MS): () => void {
    const f = new Follower(send, settleMs);
    this.#followers.add(f);
    return () => {
      f.stop();
      this.#followers.delete(f);
    };
  }
}

/** One `lanes requests -f`: hops wait by trace until their request is complete. */
class Follower {
  readonly #send: (request: RecentRequest) => void;
  readonly #settleMs: number;
  readonly #pending = new Map<string, { hops: AccessLogEntry[]; last: number }>();
  readonly #timer: NodeJS.Timeout;

  constructor(send: (request: RecentRequest) => void, settleMs: number) {
    this.#send = send;
    this.#settleMs = settleMs;
    this.#timer = setInterval(() => this.#flush(Date.now()), Math.max(50, settleMs / 3));
    this.#timer.unref();
  }

  hop(entry: AccessLogEntry): void {
    if (entry.traceId === undefined) {
      for (const r of joinHops([entry])) this.#send(r);
      return;
    }
    const p = this.#pending.get(entry.traceId);
    if (p) {
      p.hops.push(entry);
      p.last = Date.now();
    } else this.#pending.set(entry.traceId, { hops: [entry], last: Date.now() });
  }

  #flush(now: number): void {
    for (const [trace, p] of this.#pending) {
      if (now - p.last < this.#settleMs) continue;
      this.#pending.delete(trace);
      for (const r of joinHops(p.hops)) this.#send(r);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
