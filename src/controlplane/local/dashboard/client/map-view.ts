/**
 * The lane map: one table per lane group, services as rows, lanes as columns (and "no tag"),
 * each cell saying where that lane's requests for that service go. A fallback cell names the
 * lane it goes to (→ v1); pointing at it outlines that lane's cell in the same row.
 *
 * Built once per shape (groups, lanes, services) and then updated cell by cell: a snapshot
 * that changes two cells of a 100 × 20 map touches two cells of the page.
 */
import { el, fill } from './dom.ts';
import type { CellTraffic, LaneMapCell, LaneMapGroup } from './protocol.ts';

interface CellRef {
  readonly td: HTMLTableCellElement;
  readonly route: HTMLSpanElement;
  readonly rate: HTMLSpanElement;
  signature: string;
  rateText: string;
}

function cellText(cell: LaneMapCell): { text: string; cls: string; title: string; to?: string } {
  switch (cell.kind) {
    case 'own':
      return {
        text: `${cell.healthy}/${cell.total}`,
        cls: cell.healthy < cell.total ? 'own degraded' : 'own',
        title: `its own instances: ${cell.healthy} healthy of ${cell.total}`,
      };
    case 'fallback':
      return {
        text: `→ ${cell.to}`,
        cls: 'fallback',
        title:
          cell.passed.length > 0
            ? `goes to ${cell.to} (${cell.healthy} healthy); passed over ${cell.passed.join(', ')}`
            : `goes to ${cell.to} (${cell.healthy} healthy)`,
        to: cell.to,
      };
    case 'fail':
      return { text: `✕ ${cell.code}`, cls: 'fail', title: cell.message };
  }
}

export class MapView {
  readonly #root: HTMLElement;
  #shape = '';
  readonly #cells = new Map<string, CellRef>();
  /** The same cells by `service|lane` (a service is in one group), for traffic. */
  readonly #byService = new Map<string, CellRef>();
  #filter = '';

  constructor(root: HTMLElement, filter: HTMLInputElement) {
    this.#root = root;
    filter.addEventListener('input', () => {
      this.#filter = filter.value.trim().toLowerCase();
      this.#applyFilter();
    });
    // Pointing at a fallback outlines the cell of the lane it goes to.
    root.addEventListener('mouseover', (e) => this.#highlight(e.target, true));
    root.addEventListener('mouseout', (e) => this.#highlight(e.target, false));
  }

  /** Cells the last update touched (for the page's own measurements). */
  changed = 0;

  update(groups: readonly LaneMapGroup[]): void {
    const shape = JSON.stringify(
      groups.map((g) => [g.key, g.mode, g.lanes, g.rows.map((r) => r.service)]),
    );
    if (shape !== this.#shape) {
      this.#shape = shape;
      this.#build(groups);
    }
    let changed = 0;
    for (const g of groups) {
      for (const row of g.rows) {
        const all = [...g.lanes.map((l, i) => [l.name, row.cells[i]!] as const)];
        all.push(['', row.untagged]);
        for (const [lane, cell] of all) {
          const ref = this.#cells.get(`${g.key}|${row.service}|${lane}`);
          if (!ref) continue;
          const signature = JSON.stringify(cell);
          if (signature === ref.signature) continue;
          ref.signature = signature;
          const t = cellText(cell);
          ref.td.className = t.cls;
          ref.td.title = t.title;
          ref.route.textContent = t.text;
          if (t.to !== undefined) ref.td.dataset.to = t.to;
          else delete ref.td.dataset.to;
          changed++;
        }
      }
    }
    this.changed = changed;
  }

  #build(groups: readonly LaneMapGroup[]): void {
    this.#cells.clear();
    this.#byService.clear();
    if (groups.length === 0) {
      fill(
        this.#root,
        el(
          'p',
          { class: 'muted' },
          'No lane groups yet: apply a LaneGroup or an ASMSwimLaneGroup.',
        ),
      );
      return;
    }
    const tables = groups.map((g) => {
      const head = el(
        'tr',
        {},
        el('th', { class: 'service' }, 'service'),
        ...g.lanes.map((l) =>
          el(
            'th',
            {
              ...(l.disabled ? { class: 'disabled', title: `disabled: ${l.disabled}` } : {}),
              ...(l.baseline && !l.disabled ? { class: 'baseline', title: 'a baseline' } : {}),
            },
            l.name,
          ),
        ),
        el(
          'th',
          { class: 'untagged', title: 'requests without a tag, or with an unknown one' },
          'no tag',
        ),
      );
      const rows = g.rows.map((row) => {
        const tr = el(
          'tr',
          { 'data-service': row.service },
          el('th', { class: 'service' }, row.service),
        );
        for (const lane of [...g.lanes.map((l) => l.name), '']) {
          const route = el('span', { class: 'route' });
          const rate = el('span', { class: 'rate' });
          const td = el('td', { 'data-lane': lane }, route, rate);
          tr.append(td);
          const ref = { td, route, rate, signature: '', rateText: '' };
          this.#cells.set(`${g.key}|${row.service}|${lane}`, ref);
          this.#byService.set(`${row.service}|${lane}`, ref);
        }
        return tr;
      });
      return el(
        'div',
        { class: 'group' },
        el(
          'h3',
          {},
          `${g.key} `,
          el('span', { class: 'muted' }, `${g.mode}, route header ${g.routeHeader}`),
        ),
        el(
          'div',
          { class: 'scroll' },
          el('table', { class: 'map' }, el('thead', {}, head), el('tbody', {}, ...rows)),
        ),
      );
    });
    fill(this.#root, ...tables);
    this.#applyFilter();
  }

  /** Calls per second into each (service, lane) cell; cells without traffic show none. */
  setTraffic(cells: readonly CellTraffic[]): number {
    const seen = new Set<CellRef>();
    let changed = 0;
    for (const c of cells) {
      const ref = this.#byService.get(`${c.service}|${c.lane}`);
      if (!ref) continue;
      seen.add(ref);
      changed += this.#setRate(
        ref,
        c.total === 0 ? '' : `${c.rps.toFixed(1)}/s · ${c.total}`,
        `${c.total} calls since the daemon started (${c.rps.toFixed(1)} per second now), ${c.fallbacks} to a fallback`,
      );
    }
    for (const ref of this.#byService.values())
      if (!seen.has(ref)) changed += this.#setRate(ref, '', '');
    return changed;
  }

  #setRate(ref: CellRef, text: string, title: string): number {
    if (ref.rateText === text) return 0;
    ref.rateText = text;
    ref.rate.textContent = text;
    ref.rate.title = title;
    return 1;
  }

  #applyFilter(): void {
    for (const tr of this.#root.querySelectorAll<HTMLTableRowElement>('tr[data-service]'))
      tr.hidden = this.#filter !== '' && !tr.dataset.service!.toLowerCase().includes(this.#filter);
  }

  #highlight(target: EventTarget | null, on: boolean): void {
    const td = target instanceof Element ? target.closest('td') : null;
    if (!td || td.dataset.to === undefined) return;
    const to = td.parentElement?.querySelector<HTMLTableCellElement>(
      `td[data-lane="${CSS.escape(td.dataset.to)}"]`,
    );
    to?.classList.toggle('target', on);
  }
}
