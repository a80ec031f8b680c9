/**
 * The access log: one JSON line per hop (SPEC §5 Observability), written in batches so the
 * request path never waits on I/O. `write` formats the line and appends it to a string buffer;
 * the buffer goes to the sink when it reaches `flushBytes`, when its oldest line is `flushMs`
 * old (a timer, and a check on each write in case the event loop is too busy for the timer),
 * on `flush()` and on `close()`.
 *
 * Lines are `JSON.stringify(entry)`: in bench/access-log.ts that is faster than serializers
 * written by hand (see `formatAccessLogEntry`).
 *
 * A sink that falls behind (a slow disk) is not allowed to grow memory without bound: a batch
 * is dropped, and counted, while the sink holds `maxPendingBytes` not yet written out.
 */
import { createWriteStream, renameSync, statSync, type WriteStream } from 'node:fs';
import type { FallbackStep, OverrideInfo, Tag, TagSource } from '../../core/engine/types.ts';

export interface AccessLogEntry {
  /** When the request arrived, ISO 8601 UTC (`isoTime`). */
  readonly time: string;
  readonly hop: 'gateway' | 'outbound' | 'inbound';
  /**
   * The proxy that took the request: `gateway istio-system/ingressgateway:80 (cluster default)`,
   * `sidecar outbound default/mocka-v1`, `sidecar inbound default/mocka-v1`.
   */
  readonly listener: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  /** The lane tag the request carried or got. */
  readonly tag: string | null;
  readonly tagSource: TagSource | 'none';
  /** `namespace/name`. */
  readonly service: string | null;
  /** The lane the request went to (after fallback). */
  readonly lane: string | null;
  readonly subset: string | null;
  /** Lanes passed over, as `lane:reason`. */
  readonly fallback: readonly string[];
  /** The endpoint (`address:port`) of the last attempt. */
  readonly upstream: string | null;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationUs: number;
  /** The proxy's own error code (`x-lanes-error`), if it produced the response. */
  readonly error: string | null;
  readonly attempts: number;
  /** Something that happened besides the request itself (a retry, an ejection). */
  readonly event?: string;
  /** The route (VirtualService rule or lane entry) that matched. */
  readonly route?: string;
  /**
   * The trace id the request carried (traceparent, else B3, else x-request-id; a gateway starts
   * a traceparent for a request without one), for following one request across hops.
   */
  readonly traceId?: string;
  /** The per-request override this hop followed: its pairs (`default/mockb=dev-bob`). */
  readonly override?: string;
  /** Where it came from: `header`, `baggage`, `trace-memory`, `l5d-dtab`, `l5d-ctx-dtab`. */
  readonly overrideSource?: string;
  /** The override chose this hop's lane (it names the hop's service). */
  readonly overridden?: true;
  /** An override the request carried that this hop removed and did not follow, and why. */
  readonly overrideRejected?: string;
  /** `HTTP/2` when the client spoke it (absent: HTTP/1.x). */
  readonly protocol?: 'HTTP/2';
  /** The gRPC status the hop ended with, for gRPC calls. */
  readonly grpcStatus?: number;
}

/** What a hop knows of a request when it logs it, the exchange and a local answer alike. */
export interface HopRecord {
  readonly hop: AccessLogEntry['hop'];
  readonly listener: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly tag: Tag | undefined;
  readonly service: string | null;
  readonly lane: string | null;
  readonly subset: string | null;
  readonly fallback: readonly FallbackStep[];
  /** `runtime.now()` when the request's head arrived (or began to). */
  readonly startedAt: number;
  /**
   * The request was routed by a per-request override rather than by its lane (it chose this
   * hop's lane). Such hops are counted, labelled `override="true"`, and left out of release
   * analysis, which must judge the lane by the traffic it really gets.
   */
  readonly overridden?: boolean;
  /** The id that follows the request across hops (`requestTraceId`), when it has one. */
  readonly traceId?: string | undefined;
  /** What the hop did with a per-request override the request carried. */
  readonly override?: OverrideInfo;
  /** `HTTP/2` when the client spoke it. */
  readonly protocol?: 'HTTP/2';
}

/** How the hop ended. */
export interface HopOutcome {
  readonly upstream: string | null;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly error: string | null;
  readonly attempts: number;
  /** `namespace/name` of the workload whose instance answered, when the proxy knows it. */
  readonly workload?: string | null;
  /** Something that happened besides the request itself (a retry). */
  readonly event?: string;
  /** For gRPC calls: the grpc-status the client got. */
  readonly grpcStatus?: number;
}

/** The one way an entry is made from a hop; `now` is `runtime.now()`, in ms like `startedAt`. */
export function hopEntry(r: HopRecord, o: HopOutcome, now: number): AccessLogEntry {
  const elapsedMs = now - r.startedAt;
  const entry: AccessLogEntry = {
    // When the request arrived: the entry is written when it ends.
    time: isoTime(Date.now() - elapsedMs),
    hop: r.hop,
    listener: r.listener,
    method: r.method,
    authority: r.authority,
    path: r.path,
    tag: r.tag?.lane ?? null,
    tagSource: r.tag?.source ?? 'none',
    service: r.service,
    lane: r.lane,
    subset: r.subset,
    fallback: r.fallback.map((f) => `${f.lane}:${f.reason}`),
    upstream: o.upstream,
    status: o.status,
    bytesIn: o.bytesIn,
    bytesOut: o.bytesOut,
    durationUs: Math.round(elapsedMs * 1000),
    error: o.error,
    attempts: o.attempts,
    ...(o.event !== undefined ? { event: o.event } : {}),
    ...(r.traceId !== undefined ? { traceId: r.traceId } : {}),
    ...(r.protocol ? { protocol: r.protocol } : {}),
    ...(o.grpcStatus !== undefined ? { grpcStatus: o.grpcStatus } : {}),
  };
  return r.override === undefined ? entry : { ...entry, ...overrideFields(r.override) };
}

/** Whether the hop followed an override that chose its lane (HopRecord's `overridden`). */
export function chosenByOverride(info: OverrideInfo | undefined): boolean {
  return info !== undefined && info.status === 'followed' && info.applied;
}

/** Only on hops whose request carried an override: the usual line stays as it was. */
function overrideFields(info: OverrideInfo): Partial<AccessLogEntry> {
  if (info.status === 'rejected')
    return { overrideSource: info.source, overrideRejected: info.reason };
  return info.applied
    ? { override: info.pairs, overrideSource: info.source, overridden: true }
    : { override: info.pairs, overrideSource: info.source };
}

/** Where batches go: a function, or a writer such as a Node stream or `fileSink`. */
export type AccessLogSink = ((data: string) => void) | AccessLogWriter;

export interface AccessLogWriter {
  /** `false` means "taken, but backed up" (Node's Writable contract). Throws when it cannot take it. */
  write(data: string): boolean | undefined;
  /** Bytes taken but not yet written out (`fileSink`). */
  readonly pendingBytes?: number;
  /** Node streams report the same thing as `writableLength`. */
  readonly writableLength?: number;
  close?(): Promise<void> | undefined;
}

export interface AccessLogOptions {
  /** Flush once the buffer holds this many characters (about bytes for ASCII). Default 64 KiB. */
  readonly flushBytes?: number;
  /** Flush once the oldest buffered line is this old. Default 200 ms. */
  readonly flushMs?: number;
  /** Drop a batch while the sink holds this many unwritten bytes. Default 16 MiB. */
  readonly maxPendingBytes?: number;
  /** Milliseconds, any monotonic origin. */
  readonly now?: () => number;
  /** Schedules `fn` after `ms`; returns a cancel function. Default: an unref'ed `setTimeout`. */
  readonly setTimer?: (fn: () => void, ms: number) => () => void;
  /** A sink that threw (the lines are dropped and counted). */
  readonly onError?: (error: unknown) => void;
}

export interface AccessLogStats {
  readonly written: number;
  readonly dropped: number;
  readonly flushes: number;
  readonly buffered: number;
}

const defaultTimer = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export class AccessLog {
  readonly #write: (data: string) => unknown;
  readonly #sink: AccessLogSink;
  readonly #flushBytes: number;
  readonly #flushMs: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #setTimer: (fn: () => void, ms: number) => () => void;
  readonly #onError: ((error: unknown) => void) | undefined;
  #buf = '';
  #bufLines = 0;
  #firstAt = 0;
  #cancel: (() => void) | undefined;
  #closed = false;
  #written = 0;
  #dropped = 0;
  #flushes = 0;

  constructor(sink: AccessLogSink, opts: AccessLogOptions = {}) {
    this.#sink = sink;
    this.#write = typeof sink === 'function' ? sink : (data) => sink.write(data);
    this.#flushBytes = opts.flushBytes ?? 64 * 1024;
    this.#flushMs = opts.flushMs ?? 200;
    this.#maxPending = opts.maxPendingBytes ?? 16 * 1024 * 1024;
    this.#now = opts.now ?? performance.now.bind(performance);
    this.#setTimer = opts.setTimer ?? defaultTimer;
    this.#onError = opts.onError;
  }

  /** Queues one line. Never throws for I/O and never waits for it. */
  write(entry: AccessLogEntry): void {
    if (this.#closed) {
      this.#dropped++;
      return;
    }
    this.#buf += formatAccessLogEntry(entry);
    this.#bufLines++;
    if (this.#bufLines === 1) {
      this.#firstAt = this.#now();
      if (this.#buf.length < this.#flushBytes && this.#flushMs > 0) {
        this.#cancel = this.#setTimer(this.#onTimer, this.#flushMs);
        return;
      }
    } else if (this.#buf.length < this.#flushBytes && this.#now() - this.#firstAt < this.#flushMs) {
      return;
    }
    this.flush();
  }

  /** Hands the buffered lines to the sink now. */
  flush(): void {
    if (this.#cancel !== undefined) {
      this.#cancel();
      this.#cancel = undefined;
    }
    const lines = this.#bufLines;
    if (lines === 0) return;
    const data = this.#buf;
    this.#buf = '';
    this.#bufLines = 0;
    if (this.#pendingBytes() >= this.#maxPending) {
      this.#dropped += lines;
      return;
    }
    try {
      this.#write(data);
      this.#written += lines;
      this.#flushes++;
    } catch (error) {
      this.#dropped += lines;
      this.#onError?.(error);
    }
  }

  /** Flushes, stops taking lines, and closes the sink (waits for a file to be written out). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (typeof this.#sink !== 'function') await this.#sink.close?.();
  }

  stats(): AccessLogStats {
    return {
      written: this.#written,
      dropped: this.#dropped,
      flushes: this.#flushes,
      buffered: this.#bufLines,
    };
  }

  readonly #onTimer = (): void => {
    this.#cancel = undefined;
    this.flush();
  };

  #pendingBytes(): number {
    const sink = this.#sink;
    if (typeof sink === 'function') return 0;
    return sink.pendingBytes ?? sink.writableLength ?? 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Sinks

/**
 * Appends to a file through an fs write stream: writes are queued and done by libuv off the
 * event loop. The first error is reported once (default: one line on stderr); later batches
 * are refused, so the log counts them as dropped. With `maxBytes`, a file that grows past it is
 * renamed to `<path>.1` (replacing the previous one) and a new file is started, so a mesh left
 * running for weeks holds at most twice that on disk.
 */
export function fileSink(
  path: string,
  onError: (error: Error) => void = (e) =>
    process.stderr.write(`lanes: access log ${path}: ${e.message}\n`),
  options: { readonly maxBytes?: number } = {},
): AccessLogWriter & { readonly path: string } {
  let failed: Error | undefined;
  const open = () => {
    const stream = createWriteStream(path, { flags: 'a' });
    stream.on('error', (error) => {
      if (failed === undefined) onError(error);
      failed = error;
    });
    return stream;
  };
  let stream = open();
  let size = sizeOf(path);
  const closing: Promise<void>[] = [];
  return {
    path,
    write(data: string): boolean {
      if (failed !== undefined) throw failed;
      // Only once the file is open (it opens asynchronously): renaming a path that does not
      // exist yet would leave two streams appending to one file.
      if (options.maxBytes !== undefined && size >= options.maxBytes && !stream.pending) {
        // The old stream keeps its fd: what it still has queued lands in the renamed file.
        const old = stream;
        closing.push(endStream(old));
        try {
          renameSync(path, `${path}.1`);
        } catch (error) {
          onError(error as Error);
        }
        stream = open();
        size = 0;
      }
      size += Buffer.byteLength(data);
      return stream.write(data);
    },
    get pendingBytes() {
      return stream.writableLength;
    },
    async close(): Promise<void> {
      await Promise.all([...closing, endStream(stream)]);
    },
  };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * 'close' comes after the last write is done, and also after an error (then 'finish' never
 * does), so waiting for it cannot hang.
 */
function endStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed) return resolve();
    stream.once('close', () => resolve());
    stream.end();
  });
}

export interface MemorySink extends AccessLogWriter {
  /** Each batch as the log handed it over. */
  readonly batches: readonly string[];
  /** Every line so far, without its newline. */
  lines(): string[];
  /** Every line so far, parsed. */
  entries(): AccessLogEntry[];
}

/** Keeps what is written, for tests. */
export function memorySink(): MemorySink {
  const batches: string[] = [];
  const lines = () => batches.join('').split('\n').slice(0, -1);
  return {
    batches,
    write(data: string): boolean {
      batches.push(data);
      return true;
    },
    lines,
    entries: () => lines().map((l) => JSON.parse(l) as AccessLogEntry),
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

/**
 * One access-log line, newline included: `JSON.stringify` of the entry. JSON.stringify escapes
 * quotes, backslashes and control characters and writes lone surrogates as `\udXXX`
 * (well-formed JSON.stringify, ES2019), so every line is valid UTF-8 JSON; undefined optional
 * fields are left out; NaN and infinities become null. Keys come in the order the entry object
 * has them, so build entries with one literal in the interface's order.
 *
 * In bench/access-log.ts V8's native serializer beat every serializer written by hand (fixed
 * keys as text with values escaped by a regex-guarded fast path, by a character loop, or by
 * JSON.stringify per value) by 25-50%, and beat stringifying a fixed-shape copy by 6-10%.
 */
export function formatAccessLogEntry(e: AccessLogEntry): string {
  return `${JSON.stringify(e)}\n`;
}

let cachedSecond = Number.NaN;
let cachedPrefix = '';

/**
 * `new Date(epochMs).toISOString()`, faster: the text up to the second changes once a second,
 * so it is kept and only the milliseconds are appended.
 */
export function isoTime(epochMs: number): string {
  // Date keeps whole milliseconds, truncated toward zero.
  const t = Math.trunc(epochMs);
  const second = Math.floor(t / 1000);
  // Outside years 0000-9999 toISOString uses a longer form; leave those to it.
  if (!(second >= -62_167_219_200 && second < 253_402_300_800)) {
    return new Date(epochMs).toISOString();
  }
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const ms = t - second * 1000;
  return `${cachedPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
