/**
 * The dashboard page: the snapshot arrives over server-sent events (the whole of it on connect,
 * again whenever something in it changes) and each part of the page is brought up to date.
 *
 * The page measures itself for tests and benchmarks (`window.lanesDashboard`): when the first
 * lane map was on screen (ms since navigation began), and how long applying each update took.
 */
import { byId } from './dom.ts';
import { MapView } from './map-view.ts';
import { renderGateways, renderResources, renderWorkloads } from './panels.ts';
import type { DashboardSnapshot, RequestRow, TrafficUpdate } from './protocol.ts';
import { RequestsView } from './requests-view.ts';
import { TrafficView } from './traffic-view.ts';

interface Measurements {
  /** ms from navigation start to the first lane map rendered. */
  firstMapMs: number | undefined;
  /** ms each snapshot took to apply (parse and DOM), most recent last (at most 100). */
  readonly updateMs: number[];
  /** Map cells the last update changed. */
  cellsChanged: number;
  snapshots: number;
  version: number;
  /** ms each traffic update took to apply, most recent last (at most 100). */
  readonly trafficMs: number[];
  /** The last traffic update, as received. */
  traffic: TrafficUpdate | undefined;
  /** ms each recent-requests update took to apply (at most 100). */
  readonly requestsMs: number[];
}

const measurements: Measurements = {
  firstMapMs: undefined,
  updateMs: [],
  cellsChanged: 0,
  snapshots: 0,
  version: 0,
  trafficMs: [],
  traffic: undefined,
  requestsMs: [],
};
(window as unknown as { lanesDashboard: Measurements }).lanesDashboard = measurements;

const map = new MapView(byId('map'), byId('filter') as HTMLInputElement);
const traffic = new TrafficView(byId('traffic'), byId('codes'));
const requests = new RequestsView(byId('requests'), byId('request-detail'));
const status = byId('status');
let last: Record<string, string> = {};

function apply(data: string): void {
  const started = performance.now();
  const s = JSON.parse(data) as DashboardSnapshot;
  map.update(s.groups);
  // The small panels are redrawn only when their part changed.
  const parts: Record<string, [string, () => void]> = {
    workloads: [JSON.stringify(s.workloads), () => renderWorkloads(byId('workloads'), s)],
    gateways: [JSON.stringify(s.gateways), () => renderGateways(byId('gateways'), s)],
    resources: [JSON.stringify(s.resources), () => renderResources(byId('resources'), s)],
  };
  for (const [name, [json, draw]] of Object.entries(parts)) {
    if (last[name] === json) continue;
    last = { ...last, [name]: json };
    draw();
  }
  byId('version').textContent = `table version ${s.version}`;
  measurements.updateMs.push(performance.now() - started);
  if (measurements.updateMs.length > 100) measurements.updateMs.shift();
  measurements.cellsChanged = map.changed;
  measurements.snapshots++;
  measurements.version = s.version;
  measurements.firstMapMs ??= performance.now();
}

function applyTraffic(data: string): void {
  const started = performance.now();
  const t = JSON.parse(data) as TrafficUpdate;
  traffic.update(t);
  map.setTraffic(t.cells);
  measurements.trafficMs.push(performance.now() - started);
  if (measurements.trafficMs.length > 100) measurements.trafficMs.shift();
  measurements.traffic = t;
}

const events = new EventSource('/dashboard/api/events');
events.addEventListener('snapshot', (e) => apply((e as MessageEvent<string>).data));
events.addEventListener('traffic', (e) => applyTraffic((e as MessageEvent<string>).data));
events.addEventListener('requests', (e) => {
  const started = performance.now();
  byId('requests-section').hidden = false;
  requests.update(JSON.parse((e as MessageEvent<string>).data) as RequestRow[]);
  measurements.requestsMs.push(performance.now() - started);
  if (measurements.requestsMs.length > 100) measurements.requestsMs.shift();
});
events.addEventListener('open', () => {
  status.textContent = 'live';
  status.className = 'status live';
});
events.addEventListener('error', () => {
  status.textContent = 'disconnected, retrying…';
  status.className = 'status down';
});
