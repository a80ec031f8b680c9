/**
 * The local mesh's Prometheus endpoint: `GET /metrics` on its own loopback port (shown by `lanes
 * status` as `metrics.url`), without the API token — a scraper has no business holding the key
 * that can apply resources, and the numbers carry no user values (see telemetry/metrics.ts).
 * Text format 0.0.4 by default, OpenMetrics when the scraper's `Accept` asks for it.
 *
 * Besides the per-hop families of every gateway and sidecar it serves the daemon's own gauges:
 * each sidecar's trace-memory size and counters, the config version and pushes, and releases.
 */
import http from 'node:http';
import type net from 'node:net';
import {
  CONTENT_TYPES,
  exposition,
  labelText,
  type MetricFamily,
  negotiate,
} from '../../dataplane/telemetry/exposition.ts';
import type { TraceMemoryStats } from '../../dataplane/trace-memory.ts';

export interface SidecarMemory {
  readonly workload: string;
  readonly cluster: string;
  readonly instance: number;
  readonly stats: TraceMemoryStats;
}

export interface ConfigStats {
  readonly version: number;
  readonly pushes: number;
  readonly subscribers: number;
}

/** The families that describe the daemon rather than requests. */
export function daemonFamilies(
  memories: readonly SidecarMemory[],
  config: ConfigStats,
): MetricFamily[] {
  const mem = memories.map((m) => {
    const [namespace, name] = m.workload.includes('/')
      ? [
          m.workload.slice(0, m.workload.indexOf('/')),
          m.workload.slice(m.workload.indexOf('/') + 1),
        ]
      : ['default', m.workload];
    return {
      labels: labelText({
        workload: name,
        workload_namespace: namespace,
        cluster: m.cluster,
        instance: String(m.instance),
      }),
      stats: m.stats,
    };
  });
  const memoryCounter = (
    name: string,
    help: string,
    pick: (s: TraceMemoryStats) => number,
  ): MetricFamily => ({
    type: 'counter',
    name,
    help,
    series: mem.map((m) => ({ labels: m.labels, value: pick(m.stats) })),
  });
  return [
    {
      type: 'gauge',
      name: 'lanes_trace_memory_entries',
      help: "Trace id → lane entries in a sidecar's trace memory.",
      series: mem.map((m) => ({ labels: m.labels, value: m.stats.size })),
    },
    {
      type: 'gauge',
      name: 'lanes_trace_memory_capacity',
      help: "The most entries a sidecar's trace memory keeps (Mesh spec.traceMemory.maxEntries).",
      series: mem.map((m) => ({ labels: m.labels, value: m.stats.maxEntries })),
    },
    memoryCounter(
      'lanes_trace_memory_hits',
      'Lookups that restored a lane tag from the trace memory.',
      (s) => s.hits,
    ),
    memoryCounter(
      'lanes_trace_memory_misses',
      'Lookups of a trace id the memory did not hold.',
      (s) => s.misses,
    ),
    memoryCounter(
      'lanes_trace_memory_evictions',
      'Entries dropped because the memory was full.',
      (s) => s.evictions,
    ),
    memoryCounter(
      'lanes_trace_memory_expirations',
      'Entries dropped because they outlived the memory ttl.',
      (s) => s.expirations,
    ),
    {
      type: 'gauge',
      name: 'lanes_config_version',
      help: 'The version of the routing table the control plane published last.',
      series: [{ labels: '', value: config.version }],
    },
    {
      type: 'counter',
      name: 'lanes_config_pushes',
      help: 'Routing tables handed to proxies (one per proxy per publish).',
      series: [{ labels: '', value: config.pushes }],
    },
    {
      type: 'gauge',
      name: 'lanes_config_subscribers',
      help: 'Proxies following the control plane.',
      series: [{ labels: '', value: config.subscribers }],
    },
  ];
}

export interface MetricsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` on 127.0.0.1:`port` (0: any free port). */
export async function startMetricsServer(
  families: () => readonly MetricFamily[],
  port = 0,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('lanes serves only /metrics here\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('use GET /metrics\n');
      return;
    }
    const format = negotiate(req.headers.accept);
    const body = exposition(families(), format);
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[format],
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/metrics`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
