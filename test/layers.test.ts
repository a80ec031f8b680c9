/**
 * The folder layout is the architecture (ARCHITECTURE.md, "Where things live"): every folder of
 * src/ belongs to one layer, and a module imports only from its own folder or from layers below
 * it. A new folder must be given its place here, so the layering is decided, not drifted into.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * Bottom to top. Folders on one line are peers: neither may import the other. A folder not listed
 * belongs to the nearest listed parent.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  // the config model
  ['config/source'],
  ['config/yaml', 'config/schema'],
  ['config/resource'],
  ['config/kinds'],
  ['config/crd'],
  ['config/load'],
  // the routing core: pure, no I/O, no clock
  ['core/carriers'],
  ['core/compiler'],
  ['core/engine'],
  ['core/explain', 'core/render'],
  // the data plane
  ['dataplane/http1', 'dataplane/http2'],
  ['dataplane/upstream', 'dataplane/telemetry'],
  ['dataplane'],
  // control planes
  ['controlplane/release'],
  [
    'controlplane/local/state',
    'controlplane/local/otel',
    'controlplane/local/mock',
    // the dashboard page: browser code and the types it shares with the daemon
    'controlplane/local/dashboard/client',
  ],
  ['controlplane/local/workloads', 'controlplane/local/dashboard'],
  ['controlplane/local', 'controlplane/kube'],
  // tools
  ['tools/cli'],
];

/** Node built-ins a layer may use; anything else is I/O or a clock the layer must not touch. */
const NODE_BUILTINS: Readonly<Record<string, readonly string[]>> = {
  'config/kinds': ['node:net'], // isIP, a pure check
  'config/load': ['node:fs/promises', 'node:path'], // files.ts, the loader's I/O edge
  'core/carriers': ['node:buffer', 'node:crypto'], // trace-id generation for the proxy
  'core/compiler': [],
  'core/engine': [],
  'core/explain': [],
  'core/render': [],
};

const UNITS = LAYERS.flat();

function unitOf(dir: string): string | undefined {
  let best: string | undefined;
  for (const u of UNITS) {
    if ((dir === u || dir.startsWith(`${u}/`)) && (best === undefined || u.length > best.length)) {
      best = u;
    }
  }
  return best;
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((peers) => peers.includes(unit));
}

function isSupportFile(file: string): boolean {
  return /\.test\.ts$|fixtures|test-support|test-helpers/.test(file);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !isSupportFile(path) ? [path] : [];
  });
}

/** Static imports, re-exports, dynamic imports and `new URL('./x.ts', import.meta.url)`. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /(?:from|import)\s*\(?\s*'([^']+)'/g,
    /new URL\(\s*'([^']+\.ts)'\s*,\s*import\.meta\.url/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

const files = sourceFiles(SRC);

describe('the layers of src/', () => {
  test('every folder of src/ has a place in the layer table', () => {
    const unplaced = files
      .map((f) => relative(SRC, dirname(f)))
      .filter((d) => unitOf(d) === undefined);
    assert.deepEqual([...new Set(unplaced)], []);
  });

  test('no module imports from its own layer’s peers or from a layer above it', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = unitOf(relative(SRC, dirname(file)));
      if (from === undefined) continue;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(SRC)) continue;
        const to = unitOf(relative(SRC, dirname(target)));
        if (to === undefined || to === from) continue;
        if (layerOf(to) >= layerOf(from)) {
          violations.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
        }
      }
    }
    assert.deepEqual(violations, []);
  });

  test('the config model and the routing core use no Node module beyond their allowance', () => {
    const violations: string[] = [];
    for (const file of files) {
      const unit = unitOf(relative(SRC, dirname(file)));
      if (unit === undefined || !(unit.startsWith('config/') || unit.startsWith('core/'))) continue;
      const allowed = NODE_BUILTINS[unit] ?? [];
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('node:') && !allowed.includes(spec)) {
          violations.push(`${relative(SRC, file)} (${unit}) imports ${spec}`);
        }
      }
    }
    assert.deepEqual(violations, []);
  });

  test('the checks see the imports they are meant to check', () => {
    // A table that matched nothing would pass every test above.
    assert.ok(files.length > 100, `only ${files.length} source files found`);
    const engine = readFileSync(join(SRC, 'core/engine/decide.ts'), 'utf8');
    assert.ok(specifiers(engine).some((s) => s.includes('compiler/table.ts')));
  });
});
