/** Builds a host's evaluation plan: header-exact runs become lookups (see `RouteStep`). */
import { newDict } from './dict.ts';
import type { CompiledRoute, RouteStep } from './table.ts';

/** Runs shorter than this are scanned: a lookup costs about as much as a few comparisons. */
const MIN_INDEXED_RUN = 4;

function exactHeader(route: CompiledRoute): { header: string; value: string } | undefined {
  const m = route.match;
  if (m.kind !== 'header' || m.missingAsEmpty || m.test.op !== 'exact') return undefined;
  return { header: m.name, value: m.test.value };
}

export function planRoutes(routes: readonly CompiledRoute[]): RouteStep[] {
  const plan: RouteStep[] = [];
  let i = 0;
  while (i < routes.length) {
    const first = exactHeader(routes[i]!);
    let end = i + 1;
    if (first) {
      while (end < routes.length && exactHeader(routes[end]!)?.header === first.header) end++;
    }
    if (first && end - i >= MIN_INDEXED_RUN) {
      const byValue = newDict<CompiledRoute>();
      for (let j = i; j < end; j++) {
        const { value } = exactHeader(routes[j]!)!;
        // The first route with a value wins, exactly as a scan would find it.
        byValue[value] ??= routes[j]!;
      }
      plan.push({ kind: 'by-header', header: first.header, routes: byValue });
    } else {
      for (let j = i; j < end; j++) plan.push({ kind: 'route', route: routes[j]! });
    }
    i = end;
  }
  return plan;
}
