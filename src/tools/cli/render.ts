/**
 * Output formatting: kubectl-style tables, `-o json|yaml`, and the human views of describe,
 * status and explain. Pure functions of API responses, so tests compare golden strings.
 */
import { stringify } from 'yaml';
import { formatIssue, type Issue } from '../../config/source/issues.ts';
import type {
  ExplainResponse,
  InstanceView,
  RecentRequest,
  ReleaseView,
  ResourceView,
  StatusResponse,
} from '../../controlplane/local/protocol.ts';
import type { DaemonInfo } from '../../controlplane/local/state/state-dir.ts';
import type { AccessLogEntry } from '../../dataplane/telemetry/access-log.ts';
import { type KindInfo, kindByName, qualifiedName } from './kinds.ts';

/** kubectl's column gap (its tabwriter pads with three spaces). */
const GAP = '   ';
/** What kubectl prints for an empty field. */
const NONE = '<none>';

/** `-o json` / `-o yaml` of API data; always ends with a newline. */
export function renderData(format: 'json' | 'yaml', data: unknown): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  // lineWidth 0: long messages stay on one line instead of being folded.
  return stringify(data, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Aligned columns, headers as given (caps), no trailing spaces. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => [...(r[i] ?? '')].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join(GAP)
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/**
 * `deployment.apps/mocka-v1` for an apply or delete result. The daemon may send that form, the
 * registry's key (`apps/Deployment default/mocka-v1@dev`) or the daemon's label
 * (`Deployment default/mocka-v1 (cluster dev)`); the last two are turned into the first. The
 * cluster is left out, as kubectl leaves out the namespace: the command line said which.
 */
export function resourceRef(resource: string): string {
  const key = /^([^\s/]*)\/([A-Za-z]\w*) (?:[^\s/]+\/)?([^\s@/]+)(?:@\S+)?$/.exec(resource);
  if (key) return `${qualifiedName({ group: key[1]!, kind: key[2]! })}/${key[3]}`;
  const label = /^([A-Z]\w*) (?:[^\s/]+\/)?([^\s/]+)(?: \(cluster [^)]*\))?$/.exec(resource);
  if (label) {
    const info = kindByName(label[1]!);
    return `${info ? qualifiedName(info) : label[1]!.toLowerCase()}/${label[2]}`;
  }
  return resource;
}

// ---------------------------------------------------------------------------------------------
// get

interface Column {
  readonly header: string;
  readonly value: (item: ResourceView) => string;
}

const NAME: Column = { header: 'NAME', value: (r) => r.name };
const NAMESPACE: Column = { header: 'NAMESPACE', value: (r) => r.namespace || NONE };
const CLUSTER: Column = { header: 'CLUSTER', value: (r) => r.cluster || NONE };
const ACCEPTED: Column = { header: 'ACCEPTED', value: (r) => conditionCell(r, 'Accepted') };
const RESOLVED: Column = { header: 'RESOLVEDREFS', value: (r) => conditionCell(r, 'ResolvedRefs') };
/** The kind that declared it, where one KIND lists several (lanes: Lane and ASMSwimLane). */
const KIND: Column = { header: 'KIND', value: (r) => r.kind };

/** Columns per kind: what a user checks first about each. */
function columnsFor(kind: KindInfo): readonly Column[] {
  switch (kind.kind) {
    case 'Deployment':
      return [
        NAME,
        NAMESPACE,
        CLUSTER,
        { header: 'READY', value: deploymentReady },
        { header: 'STATUS', value: deploymentStatus },
        { header: 'RESTARTS', value: (r) => String(sum(r.instances ?? [], (i) => i.restarts)) },
      ];
    case 'Service':
      return [NAME, NAMESPACE, CLUSTER, { header: 'PORTS', value: servicePorts }, ACCEPTED];
    case 'Gateway':
      return [NAME, NAMESPACE, CLUSTER, { header: 'PORTS', value: gatewayPorts }, ACCEPTED];
    case 'VirtualService':
      return [
        NAME,
        NAMESPACE,
        { header: 'HOSTS', value: (r) => list(get(r.manifest, 'spec', 'hosts')) },
        { header: 'GATEWAYS', value: (r) => list(get(r.manifest, 'spec', 'gateways')) },
        ACCEPTED,
        RESOLVED,
      ];
    case 'DestinationRule':
      return [
        NAME,
        NAMESPACE,
        { header: 'HOST', value: (r) => text(get(r.manifest, 'spec', 'host')) },
        { header: 'SUBSETS', value: drSubsets },
        ACCEPTED,
        RESOLVED,
      ];
    // A lane group and a lane are one concept whatever kind declared them: `get lanes` lists
    // Lanes and ASMSwimLanes alike, with what the compiler made of each.
    case 'LaneGroup':
    case 'ASMSwimLaneGroup':
      return [
        NAME,
        ...(kind.kind === 'LaneGroup' ? [KIND] : []),
        { header: 'MODE', value: (r) => r.laneGroup?.mode ?? NONE },
        { header: 'ROUTEHEADER', value: (r) => r.laneGroup?.routeHeader ?? NONE },
        { header: 'SERVICES', value: (r) => String(r.laneGroup?.services.length ?? 0) },
        { header: 'LANES', value: (r) => r.laneGroup?.lanes.join(',') || NONE },
        ACCEPTED,
        RESOLVED,
      ];
    case 'Release':
      return [
        NAME,
        { header: 'LANE', value: (r) => text(get(r.manifest, 'spec', 'lane')) },
        { header: 'PHASE', value: (r) => r.release?.phase ?? '-' },
        { header: 'STEP', value: (r) => (r.release ? releaseStep(r.release) : '-') },
        { header: 'WEIGHT', value: (r) => (r.release ? `${r.release.weight}%` : '-') },
      ];
    case 'Lane':
    case 'ASMSwimLane':
      return [
        NAME,
        ...(kind.kind === 'Lane' ? [KIND] : []),
        { header: 'GROUP', value: (r) => r.lane?.group ?? NONE },
        {
          header: 'SERVICES',
          value: (r) => r.lane?.services.map((s) => shortName(s.name)).join(',') || NONE,
        },
        { header: 'STATUS', value: laneStatus },
        ACCEPTED,
        RESOLVED,
      ];
    default:
      return [
        NAME,
        ...(kind.namespaced ? [NAMESPACE] : []),
        ...(kind.placement === 'cluster' ? [CLUSTER] : []),
        ACCEPTED,
        RESOLVED,
      ];
  }
}

export function renderResourceTable(kind: KindInfo, items: readonly ResourceView[]): string {
  const columns = columnsFor(kind);
  return renderTable(
    columns.map((c) => c.header),
    items.map((item) => columns.map((c) => c.value(item))),
  );
}

function conditionCell(r: ResourceView, type: 'Accepted' | 'ResolvedRefs'): string {
  const c = r.conditions.find((x) => x.type === type);
  if (!c) return '-';
  return c.status === 'True' ? 'True' : `False (${c.reason})`;
}

function desiredReplicas(r: ResourceView): number {
  const replicas = get(r.manifest, 'spec', 'replicas');
  // Kubernetes' default when the field is absent.
  return typeof replicas === 'number' ? replicas : 1;
}

function deploymentReady(r: ResourceView): string {
  const ready = (r.instances ?? []).filter((i) => i.status === 'ready').length;
  return `${ready}/${desiredReplicas(r)}`;
}

/** Rejected first, then the most urgent instance state, like a pod's STATUS column. */
function deploymentStatus(r: ResourceView): string {
  const accepted = r.conditions.find((c) => c.type === 'Accepted');
  if (accepted?.status === 'False') return accepted.reason;
  const instances = r.instances ?? [];
  if (instances.length === 0) return desiredReplicas(r) === 0 ? 'ScaledDown' : 'Pending';
  for (const status of ['failed', 'backoff', 'starting', 'stopping', 'stopped'] as const) {
    if (instances.some((i) => i.status === status)) return capitalize(status);
  }
  return 'Ready';
}

function servicePorts(r: ResourceView): string {
  const ports = get(r.manifest, 'spec', 'ports');
  if (!Array.isArray(ports) || ports.length === 0) return NONE;
  return ports
    .map((p) => `${text(get(p, 'port'), '?')}/${text(get(p, 'protocol'), 'TCP')}`)
    .join(',');
}

function gatewayPorts(r: ResourceView): string {
  const servers = get(r.manifest, 'spec', 'servers');
  if (!Array.isArray(servers) || servers.length === 0) return NONE;
  return servers
    .map((s) => `${text(get(s, 'port', 'number'), '?')}/${text(get(s, 'port', 'protocol'), '?')}`)
    .join(',');
}

function drSubsets(r: ResourceView): string {
  const subsets = get(r.manifest, 'spec', 'subsets');
  if (!Array.isArray(subsets) || subsets.length === 0) return NONE;
  return subsets.map((s) => text(get(s, 'name'), '?')).join(',');
}

function laneStatus(r: ResourceView): string {
  if (!r.lane) return NONE;
  return r.lane.enabled ? 'Enabled' : 'Disabled';
}

/** `default/mocka` → `mocka`. */
function shortName(key: string): string {
  return key.slice(key.indexOf('/') + 1);
}

// ---------------------------------------------------------------------------------------------
// describe

export function renderDescribe(r: ResourceView): string {
  const info = kindByName(r.kind);
  const lines: string[] = [];
  const field = (label: string, value: string): void => {
    lines.push(`${`${label}:`.padEnd(12)}${value}`);
  };
  field('Name', r.name);
  if (r.namespace !== '' || info?.namespaced) field('Namespace', r.namespace || NONE);
  if (r.cluster !== '' || info?.placement === 'cluster') field('Cluster', r.cluster || NONE);
  field('Kind', `${r.kind} (${r.apiVersion})`);
  field('Source', r.source.file ? `${r.source.file}:${r.source.line}` : NONE);
  lines.push('Conditions:');
  if (r.conditions.length === 0) lines.push(`  ${NONE}`);
  else {
    lines.push(
      indent(
        renderTable(
          ['TYPE', 'STATUS', 'REASON', 'MESSAGE'],
          r.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
        ),
        '  ',
      ),
    );
  }
  lines.push('Notes:');
  if (r.notes.length === 0) lines.push(`  ${NONE}`);
  else for (const note of r.notes) lines.push(`  ${note}`);
  if (r.laneGroup) {
    const g = r.laneGroup;
    lines.push('Lane group:');
    lines.push(`  mode ${g.mode}, route header ${g.routeHeader}, baseline ${g.baseline ?? NONE}`);
    lines.push(`  services: ${g.services.join(', ') || NONE}`);
    lines.push(`  lanes: ${g.lanes.join(', ') || NONE}`);
  }
  if (r.lane) {
    const l = r.lane;
    lines.push('Lane:');
    lines.push(
      `  group ${l.group} (${l.mode}, route header ${l.routeHeader}), ${l.enabled ? 'enabled' : `disabled: ${l.disabledReason ?? 'disabled'}`}`,
    );
    const selector = Object.entries(l.selector).map(([k, v]) => `${k}=${v}`);
    lines.push(`  selector: ${selector.join(',') || NONE}`);
    lines.push(`  fallback: ${l.fallback.join(' → ') || NONE}`);
    if (l.services.length === 0) lines.push(`  services: ${NONE}`);
    else
      lines.push(
        indent(
          renderTable(
            ['SERVICE', 'READY'],
            l.services.map((s) => [s.name, `${s.healthy}/${s.total}`]),
          ),
          '  ',
        ),
      );
  }
  if (r.instances !== undefined) {
    lines.push('Instances:');
    if (r.instances.length === 0) lines.push(`  ${NONE}`);
    else lines.push(indent(instanceTable(r.instances), '  '));
  }
  if (r.release !== undefined) {
    lines.push('Release:');
    lines.push(indent(renderRelease(r.release, undefined), '  '));
  }
  lines.push('Manifest:');
  lines.push(indent(renderData('yaml', r.manifest), '  '));
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// releases

function releaseStep(v: ReleaseView): string {
  return v.step === 0 ? 'verify' : `${v.step}/${v.steps.length}`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/** `lanes release status`: one line per release. */
export function renderReleaseTable(views: readonly ReleaseView[]): string {
  return renderTable(
    ['NAME', 'GROUP', 'LANE', 'PHASE', 'STEP', 'WEIGHT', 'FAILED', 'LAST ANALYSIS'],
    views.map((v) => [
      v.name,
      v.group,
      v.lane,
      v.pausedBy ? `${v.phase} (${v.pausedBy})` : v.phase,
      releaseStep(v),
      `${v.weight}%`,
      v.analysis ? `${v.failures}/${v.analysis.failureLimit}` : '-',
      v.lastAnalysis?.verdict ?? '-',
    ]),
  );
}

/**
 * `lanes release status NAME` and the Release part of `describe`: where it is, each metric of the
 * last analysis against its threshold, and the history. `now` (ms) adds how long ago things were.
 */
export function renderRelease(v: ReleaseView, now: number | undefined): string {
  const lines: string[] = [];
  const field = (label: string, value: string): void => {
    lines.push(`${`${label}:`.padEnd(10)}${value}`);
  };
  const ago = (iso: string) =>
    now === undefined ? iso : `${iso} (${seconds(Math.max(0, now - Date.parse(iso)))} ago)`;
  field('Release', `${v.name} (group ${v.group}, lane ${v.lane})`);
  field('Phase', v.pausedBy ? `${v.phase} (${pauseCause(v.pausedBy)})` : v.phase);
  const steps = v.steps
    .map((s, i) => (i + 1 === v.step ? `[${s.weight}%]` : `${s.weight}%`))
    .join(' → ');
  const where = v.step === 0 ? 'verification' : `step ${v.step} of ${v.steps.length}`;
  field(
    'Step',
    v.phase === 'Promoting' || v.phase === 'Succeeded'
      ? `promoted after ${where}: ${steps}`
      : v.phase === 'RolledBack' || v.phase === 'Failed'
        ? `stopped at ${where}: ${steps}`
        : v.step === 0
          ? `verification (${seconds(v.stepElapsedMs)}); steps ${steps}`
          : `${v.step} of ${v.steps.length}: ${steps}; ${seconds(v.stepElapsedMs)} of its ${seconds(v.stepPauseMs)} pause`,
  );
  field('Weight', `${v.weight}% of ingress requests enter lane ${v.lane}`);
  if (v.analysis) {
    field(
      'Analysis',
      `every ${seconds(v.analysis.intervalMs)}, at least ${v.analysis.minRequests} requests; ${v.failures} of ${v.analysis.failureLimit} failures allowed before rollback`,
    );
  } else field('Analysis', 'none (each step lasts its pause)');
  const a = v.lastAnalysis;
  if (a) {
    lines.push(
      `Last window: ${a.verdict}, ${a.requests} requests (${a.errors} 5xx)${a.baselineRequests === undefined ? '' : `, baseline ${a.baselineRequests}`} over ${seconds(a.windowMs)}, ended ${ago(a.at)}`,
    );
    lines.push(
      indent(
        renderTable(
          ['METRIC', 'VALUE', 'THRESHOLD', 'VERDICT'],
          a.metrics.map((m) => [
            m.metric,
            m.value === undefined ? 'no data' : String(m.value),
            `${m.op} ${m.threshold}`,
            m.reason ? `${m.verdict}: ${m.reason}` : m.verdict,
          ]),
        ),
        '  ',
      ),
    );
  }
  if (v.promotion) {
    field(
      'Promoted',
      `${ago(v.promotion.at)}: ${v.promotion.services.map((s) => `${s.service} ${s.from ?? '-'} → ${v.lane}`).join(', ')}`,
    );
    field(
      'Cleanup',
      `${v.promotion.cleanup.join(', ') || 'nothing to delete'}${v.promotion.cleanupDone ? ' (deleted)' : ' (pending)'}`,
    );
  }
  if (v.outcome) field('Outcome', `${v.outcome.reason}: ${v.outcome.message}`);
  lines.push('History:');
  lines.push(
    indent(
      renderTable(
        ['TIME', 'PHASE', 'WEIGHT', 'REASON', 'MESSAGE'],
        v.history.map((h) => [h.at, h.phase, `${h.weight}%`, h.reason, h.message]),
      ),
      '  ',
    ),
  );
  return `${lines.join('\n')}\n`;
}

function pauseCause(cause: NonNullable<ReleaseView['pausedBy']>): string {
  switch (cause) {
    case 'manual':
      return 'by hand: lanes release resume';
    case 'inconclusive':
      return 'too little data to end the step: it goes on at the next passing window';
    case 'promotion':
      return 'every step passed: lanes release approve promotes';
  }
}

function instanceTable(instances: readonly InstanceView[]): string {
  return renderTable(
    ['INSTANCE', 'STATUS', 'PID', 'PORT', 'ENDPOINT', 'PROXY', 'RESTARTS', 'LAST EXIT', 'LOG'],
    instances.map((i) => [
      String(i.index),
      i.status,
      i.pid === null ? '-' : String(i.pid),
      String(i.port),
      i.endpoint,
      i.proxy,
      String(i.restarts),
      i.lastExit ?? '-',
      i.log,
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// status

/** After a gateway's URL whose remembered port another program took: the URL changed. */
export function movedNote(port: number): string {
  return `(its port ${port} was taken by another program when the daemon started: update saved URLs)`;
}

export function renderStatus(
  s: StatusResponse,
  daemon?: { stateDir: string; info: DaemonInfo },
): string {
  const parts: string[] = [];
  if (daemon) {
    parts.push(
      `Daemon: pid ${daemon.info.pid}, ${daemon.info.api}, started ${daemon.info.startedAt}, state ${daemon.stateDir}\n`,
    );
  }
  if (s.metrics) parts.push(`Metrics: ${s.metrics.url} (Prometheus, no token)\n`);
  parts.push(
    section(
      'Gateways',
      ['NAME', 'NAMESPACE', 'CLUSTER', 'URL'],
      s.gateways.map((g) => [
        g.name,
        g.namespace,
        g.cluster,
        g.movedFrom === undefined ? g.url : `${g.url} ${movedNote(g.movedFrom)}`,
      ]),
    ),
  );
  parts.push(
    section(
      'Workloads',
      ['NAME', 'NAMESPACE', 'CLUSTER', 'READY', 'RESTARTS'],
      s.workloads.map((w) => [
        w.name,
        w.namespace,
        w.cluster,
        `${w.ready}/${w.replicas}`,
        String(w.restarts),
      ]),
    ),
  );
  parts.push(
    section(
      'Lanes',
      ['NAME', 'GROUP', 'SERVICES', 'STATUS'],
      s.lanes.map((l) => [l.name, l.group, l.services.join(',') || NONE, l.status]),
    ),
  );
  return parts.join('\n');
}

function section(title: string, headers: readonly string[], rows: readonly string[][]): string {
  if (rows.length === 0) return `${title}:\n  ${NONE}\n`;
  return `${title}:\n${indent(renderTable(headers, rows), '  ')}\n`;
}

// ---------------------------------------------------------------------------------------------
// explain

export function renderExplain(e: ExplainResponse): string {
  const blocks = e.hops.map((hop, i) => {
    const lines = [
      `${i + 1}. ${hop.hop}`,
      `   request: ${hop.request}`,
      ...(hop.branches
        ? [
            '   branches (the proxy draws one per request; --branch NAME follows another):',
            ...hop.branches.map(
              (b) =>
                `     ${`${b.percent} %`.padStart(7)}  ${b.outcome}${b.followed ? '   ← followed' : ''}`,
            ),
          ]
        : []),
      `   outcome: ${hop.outcome}`,
      ...hop.steps.map((step) => `     - ${step}`),
    ];
    return `${lines.join('\n')}\n`;
  });
  blocks.push(`end: ${e.end}\n`);
  return blocks.join('\n');
}

// ---------------------------------------------------------------------------------------------
// helpers over untyped manifests

/** A nested field of a parsed document, or undefined. */
function get(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function text(value: unknown, fallback = NONE): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : fallback;
}

function list(value: unknown): string {
  if (!Array.isArray(value) || value.length === 0) return NONE;
  return value.map((v) => text(v, '?')).join(',');
}

function sum<T>(items: readonly T[], f: (item: T) => number): number {
  return items.reduce((total, item) => total + f(item), 0);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Indents every non-empty line; keeps the text's final newline out of the result. */
function indent(block: string, prefix: string): string {
  return block
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => (line === '' ? line : prefix + line))
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// apply

/**
 * Notes about fields lanes ignores, or that are probably not meant, one line each — except that
 * the same note about the same field in several places (every Deployment of a file writing
 * `imagePullPolicy`) is one line saying how many and where; `verbose` lists every one.
 */
export function renderIssueNotes(issues: readonly Issue[], verbose: boolean): string[] {
  // An ignored field is a note; a warning (a lane with no instance of a service) says so.
  const prefix = (i: Issue) => (i.severity === 'warning' ? 'warning' : 'note');
  if (verbose) return issues.map((i) => `${prefix(i)}: ${formatIssue(i)}`);
  const groups = new Map<string, Issue[]>();
  for (const issue of issues) {
    // `containers[0]` and `containers[2]` are the same field of different items.
    const key = `${issue.severity} ${issue.path.replace(/\[\d+\]/g, '[]')} ${issue.message}`;
    const group = groups.get(key);
    if (group) group.push(issue);
    else groups.set(key, [issue]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    if (group.length === 1) return `${prefix(first)}: ${formatIssue(first)}`;
    return `${prefix(first)}: ${group.length} × ${first.path.replace(/\[\d+\]/g, '[]')}: ${first.message} (${places(group)}; -v lists each)`;
  });
}

/** `mock.yaml:42,94,146, swimlane-v1.yaml:21`. */
function places(issues: readonly Issue[]): string {
  const byFile = new Map<string, number[]>();
  for (const i of issues) {
    const lines = byFile.get(i.file ?? '') ?? [];
    lines.push(i.line);
    byFile.set(i.file ?? '', lines);
  }
  return [...byFile]
    .map(([file, lines]) => `${file ? `${file}:` : 'line '}${lines.join(',')}`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------------
// requests

function ms(us: number): string {
  return us >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : `${(us / 1000).toFixed(1)} ms`;
}

/** Where a hop sent the request: the service and lane, the app (inbound), or outside the mesh. */
function hopTarget(h: AccessLogEntry): string {
  const where =
    h.service !== null
      ? `${h.service}${h.lane !== null ? ` lane ${h.lane}` : h.subset !== null ? ` subset ${h.subset}` : ''}`
      : h.hop === 'inbound'
        ? 'the app'
        : h.authority || '-';
  const fallback = h.fallback.length > 0 ? ` (passed over ${h.fallback.join(', ')})` : '';
  return `→ ${where}${fallback}`;
}

/**
 * One request, hop by hop: a line for the request (when, what, status, time, tag, trace id),
 * then one per hop (which proxy, where it sent the request and why, the instance, status, time,
 * mesh error, attempts and what happened besides).
 */
export function renderRequest(r: RecentRequest): string {
  const time = r.time.slice(11, 23);
  const head = `${time}  ${r.method || '-'} ${r.authority}${r.path}  ${r.status}  ${ms(r.durationUs)}${r.tag !== null ? `  lane ${r.tag}` : ''}${r.traceId !== null ? `  trace ${r.traceId}` : ''}`;
  const rows = r.hops.map((h) => [
    h.listener,
    hopTarget(h),
    h.upstream ?? '-',
    String(h.status),
    ms(h.durationUs),
    [h.error ?? '', h.attempts > 1 ? `${h.attempts} attempts` : '', h.event ?? '']
      .filter((x) => x !== '')
      .join('; '),
  ]);
  return `${head}\n${indent(renderTable(['HOP', 'TO', 'INSTANCE', 'STATUS', 'TIME', 'NOTE'], rows), '  ')}\n`;
}
