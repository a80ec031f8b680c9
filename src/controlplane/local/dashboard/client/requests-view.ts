/**
 * Recent requests: the latest ones, newest first, each in one line (status, what was asked, the
 * lane it carried, and its hops: where each went); click one to see every hop as `lanes
 * explain` tells a path — the service and lane it went to, fallbacks, overrides, status, time.
 */
import { el, fill } from './dom.ts';
import type { HopRow, RequestRow } from './protocol.ts';

function ms(us: number): string {
  return `${(us / 1000).toFixed(1)} ms`;
}

/** Where one hop went, in a few words: `default/mockb dev-bob`. */
function where(h: HopRow): string {
  if (h.error) return `${h.error}`;
  if (h.hop === 'inbound') return `→ app`;
  return `${h.service ?? h.upstream ?? '?'}${h.lane ? ` ${h.lane}` : ''}`;
}

function hopLines(h: HopRow, i: number): HTMLElement {
  const notes: string[] = [];
  if (h.tag) notes.push(`tag ${h.tag}`);
  if (h.fallback.length > 0) notes.push(`fell back past ${h.fallback.join(', ')}`);
  if (h.overridden) notes.push(`lane chosen by the override ${h.override}`);
  else if (h.override) notes.push(`carries the override ${h.override}`);
  if (h.overrideRejected) notes.push(`override removed: ${h.overrideRejected}`);
  return el(
    'li',
    { class: h.status >= 500 || h.error ? 'bad' : '' },
    el('div', {}, `${i + 1}. ${h.listener}`),
    el(
      'div',
      { class: 'muted' },
      `${where(h)}${h.upstream ? ` at ${h.upstream}` : ''} · ${h.status} · ${ms(h.durationUs)}`,
    ),
    notes.length > 0 ? el('div', { class: 'muted' }, notes.join('; ')) : null,
  );
}

export class RequestsView {
  readonly #list: HTMLElement;
  readonly #detail: HTMLElement;
  #selected: string | undefined;
  #rows: readonly RequestRow[] = [];

  constructor(list: HTMLElement, detail: HTMLElement) {
    this.#list = list;
    this.#detail = detail;
    list.addEventListener('click', (e) => {
      const tr = e.target instanceof Element ? e.target.closest('tr[data-key]') : null;
      if (!(tr instanceof HTMLElement)) return;
      this.#selected = tr.dataset.key;
      this.#draw();
    });
  }

  update(rows: readonly RequestRow[]): void {
    this.#rows = rows;
    this.#draw();
  }

  #draw(): void {
    const rows = [...this.#rows].reverse();
    const key = (r: RequestRow) => r.traceId ?? `${r.time} ${r.method} ${r.path}`;
    fill(
      this.#list,
      rows.length === 0
        ? el('p', { class: 'muted' }, 'no requests yet')
        : el(
            'table',
            { class: 'list requests' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                ...['time', 'status', 'request', 'tag', 'hops', 'took'].map((h) => el('th', {}, h)),
              ),
            ),
            el(
              'tbody',
              {},
              ...rows.map((r) =>
                el(
                  'tr',
                  {
                    'data-key': key(r),
                    class: `${r.status >= 500 ? 'bad ' : ''}${key(r) === this.#selected ? 'selected' : ''}`,
                  },
                  el('td', { class: 'muted' }, r.time.slice(11, 23)),
                  el('td', {}, r.status),
                  el('td', {}, `${r.method} ${r.authority}${r.path}`),
                  el('td', {}, r.tag ?? ''),
                  el(
                    'td',
                    {},
                    r.hops
                      .filter((h) => h.hop !== 'inbound')
                      .map(where)
                      .join(' → '),
                  ),
                  el('td', { class: 'num' }, ms(r.durationUs)),
                ),
              ),
            ),
          ),
    );
    const chosen = this.#rows.find((r) => key(r) === this.#selected);
    fill(
      this.#detail,
      chosen
        ? el(
            'div',
            {},
            el(
              'h3',
              {},
              `${chosen.method} ${chosen.authority}${chosen.path}`,
              el('span', { class: 'muted' }, ` trace ${chosen.traceId ?? 'none'}`),
            ),
            el('ol', { class: 'hops' }, ...chosen.hops.map(hopLines)),
          )
        : el('p', { class: 'muted' }, 'click a request to see its path, hop by hop'),
    );
  }
}
