/**
 * Workloads, gateways and resources as tables. Small (tens of rows), so each is redrawn whole
 * when its part of the snapshot changes. A condition that is False is red, with the file:line:col
 * of the field it is about.
 */
import { el, fill } from './dom.ts';
import type { DashboardSnapshot, ResourceRow } from './protocol.ts';

function table(headers: readonly string[], rows: readonly HTMLTableRowElement[]): HTMLElement {
  if (rows.length === 0) return el('p', { class: 'muted' }, 'none');
  return el(
    'table',
    { class: 'list' },
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows),
  );
}

export function renderWorkloads(root: HTMLElement, s: DashboardSnapshot): void {
  fill(
    root,
    table(
      ['workload', 'cluster', 'ready', 'restarts', 'instances'],
      s.workloads.map((w) =>
        el(
          'tr',
          { class: w.ready < w.replicas ? 'bad' : '' },
          el('td', {}, `${w.namespace}/${w.name}`),
          el('td', {}, w.cluster),
          el('td', {}, `${w.ready}/${w.replicas}`),
          el('td', {}, w.restarts),
          el(
            'td',
            {},
            ...w.instances.map((i) =>
              el(
                'span',
                { class: `chip ${i.status}`, title: i.lastExit ?? '' },
                `#${i.index} ${i.status}`,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

export function renderGateways(root: HTMLElement, s: DashboardSnapshot): void {
  fill(
    root,
    table(
      ['gateway', 'cluster', 'URL'],
      s.gateways.map((g) =>
        el(
          'tr',
          {},
          el('td', {}, `${g.namespace}/${g.name}`),
          el('td', {}, g.cluster),
          el('td', {}, g.url),
        ),
      ),
    ),
  );
}

function resourceName(r: ResourceRow): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}${r.cluster ? ` (${r.cluster})` : ''}`;
}

export function renderResources(root: HTMLElement, s: DashboardSnapshot): void {
  // Problems first: that is what someone opening this section is looking for.
  const rows = [...s.resources].sort((a, b) => {
    const bad = (r: ResourceRow) => (r.conditions.some((c) => c.status === 'False') ? 0 : 1);
    return bad(a) - bad(b) || resourceName(a).localeCompare(resourceName(b));
  });
  fill(
    root,
    table(
      ['resource', 'from', 'conditions'],
      rows.map((r) =>
        el(
          'tr',
          { class: r.conditions.some((c) => c.status === 'False') ? 'bad' : '' },
          el('td', {}, resourceName(r)),
          el('td', { class: 'muted' }, r.source),
          el(
            'td',
            {},
            ...r.conditions.map((c) =>
              c.status === 'True'
                ? el('span', { class: 'chip ok' }, `${c.type}`)
                : el('div', { class: 'error' }, `${c.type}=False (${c.reason}): ${c.message}`),
            ),
          ),
        ),
      ),
    ),
  );
}
