/** `lanes install` and `lanes uninstall`: manifests for `kubectl apply -f -` / `kubectl delete -f -`. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  type InstallOptions,
  installFiles,
  installObjects,
  uninstallObjects,
} from '../../../controlplane/kube/install.ts';
import {
  boolFlag,
  type CommandSpec,
  maxPositionals,
  type Parsed,
  parseCommand,
  stringFlag,
} from '../args.ts';
import { type CommandContext, UsageError } from '../io.ts';
import { manifestFormat, renderManifests } from '../manifests.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const installSpec: CommandSpec = {
  name: 'install',
  help: `Print what runs lanes in a Kubernetes cluster with Istio, for kubectl apply -f -: the CRDs
of lanes' kinds, a namespace, a ServiceAccount, least-privilege RBAC (read Services, Pods,
Deployments, EndpointSlices, lanes and ASM kinds; write only VirtualServices, DestinationRules,
the Lua filters, lanes statuses and Events), the controller Deployment (two replicas, one leads)
with probes and resource requests, and a PodDisruptionBudget.

Usage: lanes install [--namespace NS] [--revision R] [--image IMAGE] [--asm-crds]
                     [-o yaml|json | --output-dir DIR]

Flags:
      --namespace NS    the controller's namespace (default lanes-system)
      --revision R      a named revision: its own Deployment and RBAC, sharing the CRDs and the
                        leader Lease with the others (install a new one, then uninstall the old)
      --image IMAGE     the controller image (default lanes:VERSION, built from this repository)
      --asm-crds        also the CRDs of ASMSwimLaneGroup and ASMSwimLane, for clusters without
                        ASM, so ASM YAML works on open-source Istio unchanged
  -o, --output FORMAT   yaml (default) or json (a List)
      --output-dir DIR  write a kustomize directory instead (kubectl apply -k DIR)

Examples:
  lanes install | kubectl apply -f -
  lanes install --asm-crds --output-dir deploy/lanes && kubectl apply -k deploy/lanes
`,
  options: {
    namespace: { type: 'string' },
    revision: { type: 'string' },
    image: { type: 'string' },
    'asm-crds': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
    'output-dir': { type: 'string' },
  },
};

export const uninstallSpec: CommandSpec = {
  name: 'uninstall',
  help: `Print what removes the lanes controller, for kubectl delete -f -. Your own objects stay:
lane resources, and the Istio objects lanes rendered, which keep routing as they are (delete
those with kubectl delete virtualservices,destinationrules,envoyfilters,trafficextensions -A
-l app.kubernetes.io/managed-by=lanes). The CRDs stay unless --crds: deleting a CRD deletes
every resource of its kind.

Usage: lanes uninstall [--namespace NS] [--revision R] [--crds] [--asm-crds] [-o yaml|json]
`,
  options: {
    namespace: { type: 'string' },
    revision: { type: 'string' },
    crds: { type: 'boolean' },
    'asm-crds': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  },
};

function version(): string {
  return '0.1.0';
}

function options(p: Parsed): InstallOptions {
  const namespace = stringFlag(p, 'namespace') ?? 'lanes-system';
  const revision = stringFlag(p, 'revision');
  for (const [flag, value] of [
    ['--namespace', namespace],
    ['--revision', revision],
  ] as const) {
    if (value !== undefined && (!DNS_LABEL.test(value) || value.length > 63))
      throw new UsageError(
        `${flag} must be a DNS-1123 label (lower-case letters, digits and '-'), got ${JSON.stringify(value)}`,
      );
  }
  return {
    namespace,
    revision,
    image: stringFlag(p, 'image') ?? `lanes:${version()}`,
    asmCrds: boolFlag(p, 'asm-crds'),
  };
}

export async function install(ctx: CommandContext): Promise<number> {
  const p = parseCommand(installSpec, ctx);
  if (!p) return 0;
  maxPositionals(installSpec, p, 0, 'no arguments');
  const o = options(p);
  const dir = stringFlag(p, 'output-dir');
  if (dir === undefined) {
    ctx.io.stdout.write(
      renderManifests(installObjects(o), manifestFormat(stringFlag(p, 'output'))),
    );
    return 0;
  }
  if (stringFlag(p, 'output') !== undefined)
    throw new UsageError('--output-dir writes YAML files; leave out -o');
  const root = resolve(ctx.io.cwd, dir);
  const files = installFiles(o);
  for (const [file, objects] of files) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), renderManifests(objects, 'yaml'));
  }
  const kustomization = `# lanes install --output-dir: kubectl apply -k ${dir}\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${[...files.keys()].map((f) => `  - ${f}\n`).join('')}`;
  await writeFile(join(root, 'kustomization.yaml'), kustomization);
  ctx.io.stderr.write(`wrote ${files.size + 1} files to ${dir}\n`);
  return 0;
}

export async function uninstall(ctx: CommandContext): Promise<number> {
  const p = parseCommand(uninstallSpec, ctx);
  if (!p) return 0;
  maxPositionals(uninstallSpec, p, 0, 'no arguments');
  ctx.io.stdout.write(
    renderManifests(
      uninstallObjects(options(p), boolFlag(p, 'crds')),
      manifestFormat(stringFlag(p, 'output')),
    ),
  );
  return 0;
}
