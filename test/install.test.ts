/**
 * `lanes install` / `lanes uninstall`: what they print, least-privilege RBAC, the controller's
 * Deployment, and the kustomize directory form (`kubectl kustomize` builds the same objects when
 * kubectl is installed; otherwise the directory's structure is checked and the test says so).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { run } from '../src/tools/cli/main.ts';

interface Container {
  args: string[];
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
  resources: { requests: { cpu?: string; memory?: string } };
}

interface DeploymentSpec {
  replicas: number;
  template: {
    metadata: { labels: Record<string, string> };
    spec: { containers: Container[]; securityContext: { runAsNonRoot: boolean } };
  };
}

type Obj = {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
};

async function lanes(args: readonly string[], cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: {
      write: (s: string) => {
        stdout += s;
      },
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
      },
    },
    env: {},
    cwd,
  });
  return { code, stdout, stderr };
}

function objects(yaml: string): Obj[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as Obj);
}

const ids = (list: readonly Obj[]) =>
  list.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();

describe('lanes install', () => {
  it('prints the CRDs, namespace, service account, RBAC, controller and disruption budget', async () => {
    const r = await lanes(['install']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ids(objects(r.stdout)), [
      'ClusterRole /lanes-controller',
      'ClusterRoleBinding /lanes-controller',
      'CustomResourceDefinition /lanegroups.lanes.dev',
      'CustomResourceDefinition /lanes.lanes.dev',
      'CustomResourceDefinition /meshes.lanes.dev',
      'CustomResourceDefinition /releases.lanes.dev',
      'Deployment lanes-system/lanes-controller',
      'Namespace /lanes-system',
      'PodDisruptionBudget lanes-system/lanes-controller',
      'Role lanes-system/lanes-controller',
      'RoleBinding lanes-system/lanes-controller',
      'ServiceAccount lanes-system/lanes-controller',
    ]);
  });

  it('asks for least privilege: writes only Istio routing objects, Lua filters, statuses, events and its Lease', async () => {
    const all = objects((await lanes(['install'])).stdout);
    const writes = new Set<string>();
    for (const role of all.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
      for (const rule of role.rules as {
        apiGroups: string[];
        resources: string[];
        verbs: string[];
      }[]) {
        assert.ok(
          !rule.verbs.includes('*') &&
            !rule.resources.includes('*') &&
            !rule.apiGroups.includes('*'),
          'no wildcards',
        );
        if (rule.verbs.some((v) => ['create', 'update', 'patch', 'delete'].includes(v)))
          for (const g of rule.apiGroups)
            for (const res of rule.resources) writes.add(`${g}/${res}`);
      }
    }
    assert.deepEqual([...writes].sort(), [
      '/events',
      'coordination.k8s.io/leases',
      'events.k8s.io/events',
      'extensions.istio.io/trafficextensions',
      'istio.alibabacloud.com/asmswimlanegroups/status',
      'istio.alibabacloud.com/asmswimlanes/status',
      'lanes.dev/lanegroups/status',
      'lanes.dev/lanes/status',
      'lanes.dev/meshes/status',
      'lanes.dev/releases/status',
      'networking.istio.io/destinationrules',
      'networking.istio.io/envoyfilters',
      'networking.istio.io/virtualservices',
    ]);
  });

  it('runs the controller with probes, requests, a non-root security context, and a PDB over its pods', async () => {
    const all = objects((await lanes(['install', '--namespace', 'mesh-ops'])).stdout);
    const d = all.find((o) => o.kind === 'Deployment') as Obj & { spec: DeploymentSpec };
    const c = d.spec.template.spec.containers[0]!;
    assert.deepEqual(c.args, ['controller', '--namespace', 'mesh-ops']);
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory);
    assert.equal(d.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.equal(d.spec.replicas, 2);
    const pdb = all.find((o) => o.kind === 'PodDisruptionBudget') as Obj & {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels as Record<string, string>))
      assert.equal(d.spec.template.metadata.labels[k], v);
    assert.ok(
      all
        .filter((o) => o.metadata.namespace !== undefined)
        .every((o) => o.metadata.namespace === 'mesh-ops'),
    );
  });

  it('--revision names the controller objects after it and shares the CRDs', async () => {
    const all = objects((await lanes(['install', '--revision', 'canary'])).stdout);
    assert.ok(
      all.some((o) => o.kind === 'Deployment' && o.metadata.name === 'lanes-controller-canary'),
    );
    assert.ok(
      all
        .filter((o) => o.kind === 'CustomResourceDefinition')
        .every((o) => !o.metadata.name.includes('canary')),
    );
    assert.equal(
      all.find((o) => o.kind === 'Deployment')?.metadata.labels?.['lanes.dev/rev'],
      'canary',
    );
  });

  it('--asm-crds adds the ASM lane kinds', async () => {
    const crds = objects((await lanes(['install', '--asm-crds'])).stdout).filter(
      (o) => o.kind === 'CustomResourceDefinition',
    );
    assert.deepEqual(
      crds.map((c) => c.metadata.name).filter((n) => n.includes('alibabacloud')),
      ['asmswimlanegroups.istio.alibabacloud.com', 'asmswimlanes.istio.alibabacloud.com'],
    );
  });

  it('--output-dir writes a kustomize directory that builds the same objects', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-install-'));
    try {
      const r = await lanes(['install', '--output-dir', 'k'], dir);
      assert.equal(r.code, 0, r.stderr);
      const printed = ids(objects((await lanes(['install'])).stdout));
      const kustomization = parse(readFileSync(join(dir, 'k', 'kustomization.yaml'), 'utf8')) as {
        resources: string[];
      };
      const fromFiles = ids(
        kustomization.resources.flatMap((f) => objects(readFileSync(join(dir, 'k', f), 'utf8'))),
      );
      assert.deepEqual(fromFiles, printed, 'the files hold what install prints');
      const built = spawnSync('kubectl', ['kustomize', join(dir, 'k')], { encoding: 'utf8' });
      if (built.error)
        return t.skip(
          `kubectl is not installed (${built.error.message}); checked the kustomization's structure only`,
        );
      assert.equal(built.status, 0, built.stderr);
      assert.deepEqual(ids(objects(built.stdout)), printed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a namespace that is not a DNS label', async () => {
    const r = await lanes(['install', '--namespace', 'Lanes_System']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--namespace must be a DNS-1123 label/);
  });
});

describe('lanes uninstall', () => {
  it('names the controller objects only: no CRDs, no lane resources, no rendered objects', async () => {
    const all = objects((await lanes(['uninstall'])).stdout);
    assert.ok(all.length > 0);
    assert.ok(all.every((o) => o.kind !== 'CustomResourceDefinition'));
    assert.deepEqual(
      all.map((o) => o.kind),
      [
        'PodDisruptionBudget',
        'Deployment',
        'RoleBinding',
        'Role',
        'ClusterRoleBinding',
        'ClusterRole',
        'ServiceAccount',
        'Namespace',
      ],
    );
  });

  it('--crds names the CRDs too (deleting them deletes every lane resource)', async () => {
    const all = objects((await lanes(['uninstall', '--crds'])).stdout);
    assert.equal(all.filter((o) => o.kind === 'CustomResourceDefinition').length, 4);
  });
});

describe('usage errors of the manifest commands', () => {
  const rows: [string, string[], string][] = [
    ['install -o table', ['install', '-o', 'table'], '-o takes yaml or json, got "table"'],
    ['uninstall -o wide', ['uninstall', '-o', 'wide'], '-o takes yaml or json, got "wide"'],
    [
      'controller --edge-lua wasm, before it reads any kubeconfig',
      ['controller', '--edge-lua', 'wasm'],
      '--edge-lua takes trafficextension (Istio 1.30 and later) or envoyfilter, got "wasm"',
    ],
  ];
  for (const [what, args, message] of rows) {
    it(`${what} is a usage error (exit 2) that says what it takes`, async () => {
      const r = await lanes(args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.includes(message), r.stderr);
    });
  }
});
