/** `lanes controller`: the in-cluster control plane (src/controlplane/kube/controller.ts). */
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { Controller } from '../../../controlplane/kube/controller.ts';
import { HEALTH_PORT } from '../../../controlplane/kube/install.ts';
import { KubeApi } from '../../../controlplane/kube/kube-api.ts';
import { type CommandSpec, intFlag, maxPositionals, parseCommand, stringFlag } from '../args.ts';
import type { CommandContext } from '../io.ts';
import { edgeLuaFlag } from '../manifests.ts';

export const controllerSpec: CommandSpec = {
  name: 'controller',
  help: `Run the lanes control plane in a Kubernetes cluster (what lanes install deploys): watch lane
and ASM resources, Services, Pods, Istio Gateways, VirtualServices and DestinationRules; render
them to stock Istio objects and server-side apply them (field manager lanes); prune what lanes
owns and no longer wants; write status conditions and Events. One replica leads through the
Lease lanes-controller in --namespace; the others stand by. /healthz and /readyz on --health-port.

Usage: lanes controller [--namespace NS] [--revision R] [--kubeconfig FILE] [--health-port N]
                        [--edge-lua envoyfilter|trafficextension] [--istio-namespace NS]

In a pod it uses the service account; elsewhere --kubeconfig, else $KUBECONFIG or ~/.kube/config.
`,
  options: {
    namespace: { type: 'string' },
    revision: { type: 'string' },
    kubeconfig: { type: 'string' },
    'health-port': { type: 'string' },
    'edge-lua': { type: 'string' },
    'istio-namespace': { type: 'string' },
  },
};

export async function controller(ctx: CommandContext): Promise<number> {
  const p = parseCommand(controllerSpec, ctx);
  if (!p) return 0;
  maxPositionals(controllerSpec, p, 0, 'no arguments');
  const edgeExtension = edgeLuaFlag(stringFlag(p, 'edge-lua'));
  const kc = new KubeConfig();
  const file = stringFlag(p, 'kubeconfig');
  if (file !== undefined) kc.loadFromFile(file);
  else if (ctx.io.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  const istioNamespace = stringFlag(p, 'istio-namespace');
  const log = (line: string) => ctx.io.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const c = new Controller(new KubeApi(kc), {
    namespace: stringFlag(p, 'namespace') ?? 'lanes-system',
    identity: ctx.io.env.POD_NAME ?? `${hostname()}-${process.pid}`,
    healthPort: intFlag(p, 'health-port', 0, 65535) ?? HEALTH_PORT,
    ...(edgeExtension ? { edgeExtension } : {}),
    ...(istioNamespace ? { istioNamespace } : {}),
    log,
  });
  await c.start();
  log(`lanes controller started; health on :${c.healthAddress?.port}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    ctx.io.signal?.addEventListener('abort', stop, { once: true });
  });
  // Hands the Lease over at once, so another replica leads without waiting for it to expire.
  await c.stop();
  return 0;
}
