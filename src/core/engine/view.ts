/**
 * The request as it will look after some header operations, without touching the original: used
 * to match routes on the request the next hop will see (a restored route header, a removed
 * client header).
 */
import { applyHeaderOps, joinFieldValues } from './apply-ops.ts';
import type { HeaderOp, RequestView } from './types.ts';

export function withOps(req: RequestView, ops: readonly HeaderOp[]): RequestView {
  if (ops.length === 0) return req;
  // Only the changed fields: everything else reads through to the request.
  const changed = new Map<string, string | undefined>();
  const current = (name: string) => (changed.has(name) ? changed.get(name) : req.header(name));
  applyHeaderOps(
    {
      get: current,
      set: (name, value) => void changed.set(name, value),
      add: (name, value) => {
        const prev = current(name);
        changed.set(name, prev === undefined ? value : joinFieldValues(name, prev, value));
      },
      remove: (name) => void changed.set(name, undefined),
    },
    ops,
  );
  return {
    method: req.method,
    scheme: req.scheme,
    authority: req.authority,
    path: req.path,
    query: req.query,
    header: current,
  };
}

/** A request view over a plain header record (tests, `lanes explain`, the conformance runner). */
export function requestView(init: {
  readonly method?: string;
  readonly scheme?: 'http' | 'https';
  readonly authority: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
}): RequestView {
  const rawPath = init.path ?? '/';
  const q = rawPath.indexOf('?');
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(init.headers ?? {})) headers.set(k.toLowerCase(), v);
  return {
    method: init.method ?? 'GET',
    scheme: init.scheme ?? 'http',
    authority: init.authority,
    path: q < 0 ? rawPath : rawPath.slice(0, q),
    query: q < 0 ? '' : rawPath.slice(q + 1),
    header: (name: string) => headers.get(name),
  };
}
