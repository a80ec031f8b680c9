/**
 * Traffic: requests per second entering each lane at the gateways (with a sparkline of the last
 * minute), totals, fallbacks and errors; the answers the mesh gave by code; overridden hops.
 * Numbers come from the daemon's metric counters once per tick.
 */
import { el, fill } from './dom.ts';
import type { TrafficUpdate } from './protocol.ts';

const HISTORY = 60;
const SVG = 'http://www.w3.org/2000/svg';

function laneLabel(lane: string): string {
  return lane === '' ? 'no tag' : lane;
}

function sparkline(values: readonly number[]): SVGSVGElement {
  const w = 120;
  const h = 22;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('class', 'spark');
  const max = Math.max(1, ...values);
  const points = values
    .map(
      (v, i) =>
        `${((i + HISTORY - values.length) * w) / (HISTORY - 1)},${h - 1 - (v / max) * (h - 2)}`,
    )
    .join(' ');
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points);
  svg.append(line);
  return svg;
}

export class TrafficView {
  readonly #lanes: HTMLElement;
  readonly #codes: HTMLElement;
  readonly #history = new Map<string, number[]>();

  constructor(lanes: HTMLElement, codes: HTMLElement) {
    this.#lanes = lanes;
    this.#codes = codes;
  }

  update(t: TrafficUpdate): void {
    for (const l of t.lanes) {
      const h = this.#history.get(l.lane) ?? [];
      h.push(l.rps);
      if (h.length > HISTORY) h.shift();
      this.#history.set(l.lane, h);
    }
    fill(
      this.#lanes,
      t.lanes.length === 0
        ? el('p', { class: 'muted' }, 'no requests yet')
        : el(
            'table',
            { class: 'list' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                ...['lane', 'req/s', 'last minute', 'requests', 'fallbacks', 'errors'].map((h) =>
                  el('th', {}, h),
                ),
              ),
            ),
            el(
              'tbody',
              {},
              ...t.lanes.map((l) =>
                el(
                  'tr',
                  { 'data-lane': l.lane },
                  el('td', {}, laneLabel(l.lane)),
                  el('td', { class: 'num' }, l.rps.toFixed(1)),
                  el('td', {}, sparkline(this.#history.get(l.lane) ?? [])),
                  el('td', { class: 'num total' }, l.total),
                  el('td', { class: 'num' }, l.fallbacks),
                  el('td', { class: l.errors > 0 ? 'num error' : 'num' }, l.errors),
                ),
              ),
            ),
          ),
    );
    fill(
      this.#codes,
      el('p', { class: 'muted' }, `hops routed by a per-request override: ${t.overridden}`),
      t.codes.length === 0
        ? el('p', { class: 'muted' }, 'no errors')
        : el(
            'table',
            { class: 'list' },
            el(
              'thead',
              {},
              el('tr', {}, el('th', {}, 'code'), el('th', {}, 'req/s'), el('th', {}, 'total')),
            ),
            el(
              'tbody',
              {},
              ...t.codes.map((c) =>
                el(
                  'tr',
                  { 'data-code': c.code },
                  el('td', { class: 'error' }, c.code),
                  el('td', { class: 'num' }, c.rps.toFixed(1)),
                  el('td', { class: 'num total' }, c.total),
                ),
              ),
            ),
          ),
    );
  }
}
