/**
 * A FAKE Kubernetes API server for tests, at the HTTP level, in process, on 127.0.0.1 port 0.
 * It is not Kubernetes: it implements just what lanes' controller uses through
 * @kubernetes/client-node, so the controller's real client code runs against real sockets:
 *
 * - discovery (`/api/v1`, `/apis/GROUP/VERSION`) for the kinds it serves;
 * - list (with `labelSelector`), get, create (with `generateName`), update with a resourceVersion
 *   precondition (409 Conflict), delete;
 * - watch (`?watch=true&resourceVersion=N`): every change after N, then live, as newline-delimited
 *   JSON, with BOOKMARK events every `bookmarkMs`;
 * - server-side apply (`application/apply-patch+yaml`, `fieldManager`, `force`): field ownership
 *   per manager on leaf paths (lists are atomic); fields another manager owns with another value
 *   conflict (409) unless forced; fields the manager applied before and left out are removed;
 * - the status subresource: `/status` writes change only `status`, other writes never do;
 *   `metadata.generation` counts spec changes;
 * - Leases and Events as ordinary resources.
 *
 * What it does not reproduce (needs a real cluster): admission (webhooks, CEL), defaulting and
 * pruning by CRD schemas, watch-cache timing, 410 Gone after compaction, list paging.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Served {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly status?: boolean;
}

export const SERVED: readonly Served[] = [
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    namespaced: true,
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  {
    group: 'lanes.dev',
    version: 'v1alpha1',
    kind: 'LaneGroup',
    plural: 'lanegroups',
    namespaced: false,
    status: true,
  },
  {
    group: 'lanes.dev',
    version: 'v1alpha1',
    kind: 'Lane',
    plural: 'lanes',
    namespaced: false,
    status: true,
  },
  {
    group: 'lanes.dev',
    version: 'v1alpha1',
    kind: 'Mesh',
    plural: 'meshes',
    namespaced: false,
    status: true,
  },
  {
    group: 'lanes.dev',
    version: 'v1alpha1',
    kind: 'Release',
    plural: 'releases',
    namespaced: false,
    status: true,
  },
  {
    group: 'istio.alibabacloud.com',
    version: 'v1',
    kind: 'ASMSwimLaneGroup',
    plural: 'asmswimlanegroups',
    namespaced: false,
    status: true,
  },
  {
    group: 'istio.alibabacloud.com',
    version: 'v1',
    kind: 'ASMSwimLane',
    plural: 'asmswimlanes',
    namespaced: false,
    status: true,
  },
  {
    group: 'networking.istio.io',
    version: 'v1',
    kind: 'Gateway',
    plural: 'gateways',
    namespaced: true,
  },
  {
    group: 'networking.istio.io',
    version: 'v1',
    kind: 'VirtualService',
    plural: 'virtualservices',
    namespaced: true,
  },
  {
    group: 'networking.istio.io',
    version: 'v1',
    kind: 'DestinationRule',
    plural: 'destinationrules',
    namespaced: true,
  },
  {
    group: 'networking.istio.io',
    version: 'v1alpha3',
    kind: 'EnvoyFilter',
    plural: 'envoyfilters',
    namespaced: true,
  },
  {
    group: 'extensions.istio.io',
    version: 'v1alpha1',
    kind: 'TrafficExtension',
    plural: 'trafficextensions',
    namespaced: true,
  },
];

type Json = Record<string, unknown>;

interface Stored {
  object: Json;
  /** manager → leaf paths it owns. */
  managers: Map<string, Set<string>>;
}

interface Change {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly served: Served;
  readonly object: Json;
}

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const clone = <T>(v: T): T => structuredClone(v);

/** Leaf paths of a value (objects recurse, lists and scalars are leaves). */
function leaves(v: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (isObj(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v))
      leaves(x, prefix === '' ? k : `${prefix}\u0000${k}`, out);
  } else out.set(prefix, v);
  return out;
}

function getPath(o: Json, path: string): unknown {
  let v: unknown = o;
  for (const k of path.split('\u0000')) v = isObj(v) ? v[k] : undefined;
  return v;
}

function setPath(o: Json, path: string, value: unknown): void {
  const keys = path.split('\u0000');
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k] as Json;
  }
  cur[keys.at(-1)!] = clone(value);
}

function deletePath(o: Json, path: string): void {
  const keys = path.split('\u0000');
  const stack: Json[] = [o];
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) return;
    cur = cur[k] as Json;
    stack.push(cur);
  }
  delete cur[keys.at(-1)!];
  // Drop objects left empty.
  for (let i = keys.length - 2; i >= 0; i--) {
    const parent = stack[i]!;
    const child = parent[keys[i]!];
    if (isObj(child) && Object.keys(child).length === 0) delete parent[keys[i]!];
  }
}

const SERVER_FIELDS = new Set([
  'resourceVersion',
  'generation',
  'uid',
  'creationTimestamp',
  'managedFields',
]);

function labelsMatch(o: Json, selector: string | null): boolean {
  if (!selector) return true;
  const labels = ((o.metadata as Json).labels ?? {}) as Record<string, string>;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels[k!] === v;
  });
}

export class FakeKubeApi {
  readonly #objects = new Map<string, Stored>();
  readonly #log: Change[] = [];
  readonly #watchers = new Set<{
    served: Served;
    selector: string | null;
    res: http.ServerResponse;
  }>();
  readonly #server: http.Server;
  #rv = 1;
  #uid = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Requests by `METHOD kind[/status]` (writes and reads), for tests that count writes. */
  readonly requests = new Map<string, number>();

  readonly bookmarkMs: number;

  constructor(bookmarkMs = 100) {
    this.bookmarkMs = bookmarkMs;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#timer = setInterval(() => this.#bookmarks(), this.bookmarkMs);
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
  }

  /** Writes of one kind (`PATCH Lane/status`…), or of every kind when none is given. */
  writes(match?: RegExp): number {
    let n = 0;
    for (const [k, v] of this.requests)
      if (!k.startsWith('GET') && (!match || match.test(k))) n += v;
    return n;
  }

  // ---- direct access for tests (as a user with kubectl would write) ----

  put(o: Json, manager = 'kubectl'): Json {
    const served = this.#served(String(o.apiVersion), String(o.kind));
    return this.#write(served, clone(o), manager, 'replace-all');
  }

  get(apiVersion: string, kind: string, namespace: string, name: string): Json | undefined {
    const served = this.#served(apiVersion, kind);
    const s = this.#objects.get(this.#key(served, namespace, name));
    return s ? clone(s.object) : undefined;
  }

  list(apiVersion: string, kind: string): Json[] {
    const served = this.#served(apiVersion, kind);
    return [...this.#objects.entries()]
      .filter(([k]) => k.startsWith(`${served.group}/${served.plural}/`))
      .map(([, s]) => clone(s.object));
  }

  remove(apiVersion: string, kind: string, namespace: string, name: string): void {
    const served = this.#served(apiVersion, kind);
    this.#delete(served, namespace, name);
  }

  managersOf(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Record<string, string[]> {
    const served = this.#served(apiVersion, kind);
    const s = this.#objects.get(this.#key(served, namespace, name));
    return Object.fromEntries(
      [...(s?.managers ?? [])].map(([m, paths]) => [
        m,
        [...paths].map((p) => p.replaceAll('\u0000', '.')).sort(),
      ]),
    );
  }

  // ---- internals ----

  #served(apiVersion: string, kind: string): Served {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const s =
      SERVED.find((x) => x.group === group && x.version === version && x.kind === kind) ??
      SERVED.find((x) => x.group === group && x.kind === kind);
    if (!s) throw new Error(`the fake does not serve ${apiVersion} ${kind}`);
    return s;
  }

  #key(s: Served, namespace: string, name: string): string {
    return `${s.group}/${s.plural}/${s.namespaced ? namespace : ''}/${name}`;
  }

  #emit(served: Served, type: Change['type'], object: Json): void {
    const change = { rv: this.#rv, type, served, object: clone(object) };
    this.#log.push(change);
    for (const w of this.#watchers) {
      if (
        w.served.plural === served.plural &&
        w.served.group === served.group &&
        labelsMatch(object, w.selector)
      )
        w.res.write(`${JSON.stringify({ type, object: change.object })}\n`);
    }
  }

  #bookmarks(): void {
    for (const w of this.#watchers) {
      const s = w.served;
      const apiVersion = s.group === '' ? s.version : `${s.group}/${s.version}`;
      w.res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: { apiVersion, kind: s.kind, metadata: { resourceVersion: String(this.#rv) } } })}\n`,
      );
    }
  }

  /**
   * Stores a write. `apply`: server-side apply by `manager`; `replace-all`: an update (PUT) whose
   * body is the whole object; `status`: only the status changes (the status subresource).
   */
  #write(
    served: Served,
    body: Json,
    manager: string,
    mode: 'apply' | 'replace-all' | 'status',
    force = false,
    expectRv?: string,
  ): Json {
    const meta = (body.metadata ?? {}) as Json;
    let name = String(meta.name ?? '');
    const namespace = served.namespaced ? String(meta.namespace ?? 'default') : '';
    if (name === '' && typeof meta.generateName === 'string')
      name = `${meta.generateName}${(++this.#uid).toString(36)}`;
    if (name === '') throw new HttpError(422, 'metadata.name: Required value');
    const key = this.#key(served, namespace, name);
    const existing = this.#objects.get(key);
    if (
      expectRv !== undefined &&
      existing &&
      String((existing.object.metadata as Json).resourceVersion) !== expectRv
    ) {
      throw new HttpError(
        409,
        `Operation cannot be fulfilled on ${served.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    if (mode === 'status' && !existing)
      throw new HttpError(404, `${served.plural} "${name}" not found`);
    const stored: Stored = existing
      ? {
          object: clone(existing.object),
          managers: new Map([...existing.managers].map(([m, p]) => [m, new Set(p)])),
        }
      : { object: {}, managers: new Map() };
    const before = clone(stored.object);
    const incoming = clone(body);
    delete incoming.apiVersion;
    delete incoming.kind;
    const incomingMeta = (incoming.metadata ?? {}) as Json;
    for (const f of SERVER_FIELDS) delete incomingMeta[f];
    delete incomingMeta.generateName;
    incomingMeta.name = name;
    if (served.namespaced) incomingMeta.namespace = namespace;
    incoming.metadata = incomingMeta;
    if (mode === 'status') {
      for (const k of Object.keys(incoming)) if (k !== 'status') delete incoming[k];
    } else if (served.status) {
      delete incoming.status;
    }
    const applied = leaves(incoming, '', new Map());
    const scope = (p: string) =>
      mode === 'status' ? p.startsWith('status') : !(served.status && p.startsWith('status'));
    if (mode === 'apply' || mode === 'status') {
      for (const [path, value] of applied) {
        for (const [other, paths] of stored.managers) {
          if (other === manager || !paths.has(path)) continue;
          if (JSON.stringify(getPath(stored.object, path)) === JSON.stringify(value)) continue;
          if (!force)
            throw new HttpError(
              409,
              `Apply failed with 1 conflict: conflict with "${other}": ${path.replaceAll('\u0000', '.')}`,
            );
          paths.delete(path);
        }
      }
      // Fields this manager applied before and left out now are removed (unless others own them).
      for (const path of stored.managers.get(manager) ?? []) {
        if (applied.has(path) || !scope(path)) continue;
        const ownedByOthers = [...stored.managers].some(([m, p]) => m !== manager && p.has(path));
        if (!ownedByOthers) deletePath(stored.object, path);
      }
      for (const [path, value] of applied) setPath(stored.object, path, value);
      const mine = new Set([...(stored.managers.get(manager) ?? [])].filter((p) => !scope(p)));
      for (const path of applied.keys()) mine.add(path);
      stored.managers.set(manager, mine);
    } else {
      // An update replaces everything in scope; the updater owns what changed.
      const keep = Object.fromEntries(
        Object.entries(stored.object).filter(([k]) => served.status && k === 'status'),
      );
      stored.object = { ...clone(incoming), ...keep };
      const mine = stored.managers.get(manager) ?? new Set<string>();
      for (const [path, value] of applied) {
        if (JSON.stringify(getPath(before, path)) === JSON.stringify(value)) continue;
        for (const [m, paths] of stored.managers) if (m !== manager) paths.delete(path);
        mine.add(path);
      }
      stored.managers.set(manager, mine);
    }
    const m = stored.object.metadata as Json;
    m.name = name;
    if (served.namespaced) m.namespace = namespace;
    const beforeMeta = (before.metadata ?? {}) as Json;
    m.uid = beforeMeta.uid ?? `uid-${++this.#uid}`;
    m.creationTimestamp = beforeMeta.creationTimestamp ?? new Date().toISOString();
    const specChanged = JSON.stringify(before.spec) !== JSON.stringify(stored.object.spec);
    const generation = Number(beforeMeta.generation ?? 0);
    m.generation = existing ? generation + (specChanged ? 1 : 0) : 1;
    const unchanged =
      existing &&
      JSON.stringify({ ...before, metadata: { ...beforeMeta, resourceVersion: 0 } }) ===
        JSON.stringify({ ...stored.object, metadata: { ...m, resourceVersion: 0 } });
    if (unchanged) {
      this.#objects.set(key, stored);
      return this.#full(served, stored.object);
    }
    m.resourceVersion = String(++this.#rv);
    this.#objects.set(key, stored);
    this.#emit(served, existing ? 'MODIFIED' : 'ADDED', this.#full(served, stored.object));
    return this.#full(served, stored.object);
  }

  #full(served: Served, o: Json): Json {
    return {
      apiVersion: served.group === '' ? served.version : `${served.group}/${served.version}`,
      kind: served.kind,
      ...clone(o),
    };
  }

  #delete(served: Served, namespace: string, name: string): Json {
    const key = this.#key(served, namespace, name);
    const s = this.#objects.get(key);
    if (!s) throw new HttpError(404, `${served.plural} "${name}" not found`);
    this.#objects.delete(key);
    ++this.#rv;
    const object = this.#full(served, {
      ...s.object,
      metadata: { ...(s.object.metadata as Json), resourceVersion: String(this.#rv) },
    });
    this.#emit(served, 'DELETED', object);
    return object;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://fake');
      const parts = url.pathname.split('/').filter(Boolean);
      const body = await new Promise<string>((resolve) => {
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          text += c;
        });
        req.on('end', () => resolve(text));
      });
      // Discovery.
      if (
        (parts[0] === 'api' && parts.length === 2) ||
        (parts[0] === 'apis' && parts.length === 3)
      ) {
        const [group, version] = parts[0] === 'api' ? ['', parts[1]!] : [parts[1]!, parts[2]!];
        const resources = SERVED.filter((s) => s.group === group && s.version === version).flatMap(
          (s) => [
            {
              name: s.plural,
              singularName: s.kind.toLowerCase(),
              namespaced: s.namespaced,
              kind: s.kind,
              verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
            },
            ...(s.status
              ? [
                  {
                    name: `${s.plural}/status`,
                    singularName: '',
                    namespaced: s.namespaced,
                    kind: s.kind,
                    verbs: ['get', 'patch', 'update'],
                  },
                ]
              : []),
          ],
        );
        return this.#json(res, 200, {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: group === '' ? version : `${group}/${version}`,
          resources,
        });
      }
      const base = parts[0] === 'api' ? 2 : 3;
      const [group, version] = parts[0] === 'api' ? ['', parts[1]!] : [parts[1]!, parts[2]!];
      let rest = parts.slice(base);
      let namespace = '';
      if (rest[0] === 'namespaces' && rest.length >= 3) {
        namespace = rest[1]!;
        rest = rest.slice(2);
      }
      const served = SERVED.find(
        (s) => s.group === group && s.version === version && s.plural === rest[0],
      );
      if (!served)
        throw new HttpError(
          404,
          `the server could not find the requested resource ${url.pathname}`,
        );
      const name = rest[1];
      const sub = rest[2];
      const count = (verb: string) =>
        this.requests.set(
          `${verb} ${served.kind}${sub ? `/${sub}` : ''}`,
          (this.requests.get(`${verb} ${served.kind}${sub ? `/${sub}` : ''}`) ?? 0) + 1,
        );
      count(req.method ?? 'GET');
      const manager = url.searchParams.get('fieldManager') ?? 'unknown';
      const apiVersion = group === '' ? version : `${group}/${version}`;
      if (req.method === 'GET' && name === undefined) {
        const selector = url.searchParams.get('labelSelector');
        if (url.searchParams.get('watch') === 'true')
          return this.#watch(
            served,
            selector,
            Number(url.searchParams.get('resourceVersion') ?? 0),
            res,
          );
        const items = [...this.#objects.entries()]
          .filter(([k]) =>
            k.startsWith(
              `${served.group}/${served.plural}/${namespace === '' ? '' : `${namespace}/`}`,
            ),
          )
          .map(([, s]) => this.#full(served, s.object))
          .filter((o) => labelsMatch(o, selector));
        return this.#json(res, 200, {
          apiVersion,
          kind: `${served.kind}List`,
          metadata: { resourceVersion: String(this.#rv) },
          items,
        });
      }
      if (req.method === 'GET') {
        const s = this.#objects.get(this.#key(served, namespace, name!));
        if (!s) throw new HttpError(404, `${served.plural} "${name}" not found`);
        return this.#json(res, 200, this.#full(served, s.object));
      }
      const parsed = body === '' ? {} : (JSON.parse(body) as Json);
      if (req.method === 'POST') {
        const meta = (parsed.metadata ?? {}) as Json;
        const n = String(meta.name ?? '');
        if (
          n !== '' &&
          this.#objects.has(this.#key(served, namespace || String(meta.namespace ?? 'default'), n))
        )
          throw new HttpError(409, `${served.plural} "${n}" already exists`);
        if (served.namespaced && namespace) meta.namespace = namespace;
        parsed.metadata = meta;
        return this.#json(res, 201, this.#write(served, parsed, manager, 'replace-all'));
      }
      if (req.method === 'PUT') {
        const rv = (parsed.metadata as Json | undefined)?.resourceVersion;
        if (!this.#objects.has(this.#key(served, namespace, name!)))
          throw new HttpError(404, `${served.plural} "${name}" not found`);
        return this.#json(
          res,
          200,
          this.#write(
            served,
            parsed,
            manager,
            sub === 'status' ? 'status' : 'replace-all',
            false,
            rv === undefined ? undefined : String(rv),
          ),
        );
      }
      if (req.method === 'PATCH') {
        if (req.headers['content-type'] !== 'application/apply-patch+yaml')
          throw new HttpError(
            415,
            `the fake supports only server-side apply patches, not ${req.headers['content-type']}`,
          );
        if (!url.searchParams.get('fieldManager'))
          throw new HttpError(422, 'fieldManager is required for apply requests');
        const meta = (parsed.metadata ?? {}) as Json;
        meta.name = name;
        if (served.namespaced) meta.namespace = namespace;
        parsed.metadata = meta;
        const force = url.searchParams.get('force') === 'true';
        return this.#json(
          res,
          200,
          this.#write(served, parsed, manager, sub === 'status' ? 'status' : 'apply', force),
        );
      }
      if (req.method === 'DELETE')
        return this.#json(res, 200, this.#delete(served, namespace, name!));
      throw new HttpError(405, `method ${req.method} not allowed`);
    } catch (error) {
      const code = error instanceof HttpError ? error.code : 500;
      this.#json(res, code, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: (error as Error).message,
        code,
        reason: code === 409 ? 'Conflict' : code === 404 ? 'NotFound' : 'Invalid',
      });
    }
  }

  #watch(served: Served, selector: string | null, from: number, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    for (const c of this.#log) {
      if (c.rv <= from || c.served !== served || !labelsMatch(c.object, selector)) continue;
      res.write(`${JSON.stringify({ type: c.type, object: c.object })}\n`);
    }
    const w = { served, selector, res };
    this.#watchers.add(w);
    res.on('close', () => this.#watchers.delete(w));
  }

  #json(res: http.ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

class HttpError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
