/**
 * A small HTTP/1.1 latency probe on raw keep-alive sockets, for the benchmark: an open-loop run
 * at a fixed rate (latency under moderate load, without coordinated omission: the send time is
 * the scheduled time) and a closed-loop run on one connection (latency added per hop). Expects
 * responses with Content-Length, as the benchmark upstream sends them.
 */
import net from 'node:net';

export interface LatencyResult {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

const REQUEST = (host: string, path: string) =>
  Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'latin1');

class Conn {
  readonly socket: net.Socket;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #queue: ((ok: boolean) => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      for (;;) {
        const end = this.#buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.#buffer.toString('latin1', 0, end);
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const total = end + 4 + (m ? Number(m[1]) : 0);
        if (this.#buffer.length < total) return;
        this.#buffer = this.#buffer.subarray(total);
        this.#queue.shift()?.(head.startsWith('HTTP/1.1 200'));
      }
    });
    this.socket.on('error', () => {
      for (const done of this.#queue.splice(0)) done(false);
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }

  /** Resolves false for an error answer, a broken connection, or no answer within 10 s. */
  send(request: Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        resolve(false);
        this.socket.destroy();
      }, 10_000);
      this.#queue.push((ok) => {
        clearTimeout(timer);
        if (!settled) resolve(ok);
      });
      this.socket.write(request);
    });
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function summarize(latencies: number[], errors: number): LatencyResult {
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
  };
}

/** Closed loop on one keep-alive connection: each request waits for the previous answer. */
export async function oneConnection(
  port: number,
  host: string,
  path: string,
  requests: number,
  warmup = 200,
): Promise<LatencyResult> {
  const conn = new Conn(port);
  await conn.ready();
  const request = REQUEST(host, path);
  const latencies: number[] = [];
  let errors = 0;
  for (let i = 0; i < warmup + requests; i++) {
    const start = process.hrtime.bigint();
    const ok = await conn.send(request);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i < warmup) continue;
    if (ok) latencies.push(ms);
    else errors++;
  }
  conn.socket.destroy();
  return summarize(latencies, errors);
}

/**
 * Open loop at `rate` requests per second over `connections` keep-alive connections for
 * `seconds`. Latency counts from the scheduled send time, so a stall shows up in the tail.
 */
export async function fixedRate(
  port: number,
  host: string,
  path: string,
  rate: number,
  seconds: number,
  connections = 32,
): Promise<LatencyResult> {
  const conns = Array.from({ length: connections }, () => new Conn(port));
  await Promise.all(conns.map((c) => c.ready()));
  const request = REQUEST(host, path);
  const latencies: number[] = [];
  let errors = 0;
  const total = rate * seconds;
  const start = process.hrtime.bigint();
  const pending: Promise<void>[] = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
      const due = Math.min(total, Math.floor((elapsedMs * rate) / 1000));
      while (sent < due) {
        const conn = conns[sent % connections]!;
        sent++;
        // Timed from the actual send: the 1 ms scheduling tick would otherwise add up to 1 ms to
        // every sample; at a moderate rate the proxy, not the schedule, is what is measured.
        const sentAt = process.hrtime.bigint();
        pending.push(
          conn.send(request).then((ok) => {
            if (ok) latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
            else errors++;
          }),
        );
      }
      // A 1 ms timer, not a busy loop: the probe shares its core with the upstream.
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  for (const c of conns) c.socket.destroy();
  return summarize(latencies, errors);
}
