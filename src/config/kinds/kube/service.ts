/**
 * Kubernetes `v1 Service`: a named, ported destination whose endpoints are the instances its
 * selector picks. Local mode uses the selector and the ports; a client reaches the service by name
 * through its sidecar, so cluster IPs, node ports and load balancers have no meaning there and are
 * reported as ignored. What lanes cannot carry (UDP and SCTP ports, ExternalName) is an error.
 */
import { isIP } from 'node:net';
import {
  bool,
  ignored,
  int,
  intOrString,
  list,
  obj,
  oneOf,
  required,
  str,
} from '../../schema/dsl.ts';
import { dnsLabel, labelKey, labelMap, portNumber } from '../common.ts';
import { defineKind } from '../kind.ts';
import { portNameProblem, shape } from './pod.ts';

export interface ServicePortSpec {
  /** Required by Kubernetes when the service has more than one port. */
  readonly name: string | undefined;
  readonly port: number;
  /** A container port number, or the name of a container port; defaults to `port`. */
  readonly targetPort: number | string;
  /** Only TCP is accepted: lanes proxies HTTP over TCP. */
  readonly protocol: 'TCP';
  /** `http`, `h2c`, `kubernetes.io/ws`, … as written; `undefined` when unset. */
  readonly appProtocol: string | undefined;
}

export interface ServiceSpec {
  /**
   * The instances behind the service. `undefined` when the service has no selector (or an empty
   * one): as in Kubernetes, it then selects nothing, and lanes has no Endpoints kind to fill it.
   */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePortSpec[];
  /**
   * `clusterIP: None`. Local mode routes to a headless service exactly like any other (the sidecar
   * resolves the name to instances); in Kubernetes, DNS would return the pod addresses instead.
   */
  readonly headless: boolean;
}

const NO_CLUSTER_IPS =
  'local mode assigns no cluster IPs; clients reach the service by name through their sidecar';
const NO_NODES =
  'local mode has no nodes or cloud load balancers; reach the service through a gateway';
const ONE_MACHINE =
  'local mode runs every instance on this machine; there is no zone or node to prefer';

const servicePort = obj({
  name: dnsLabel('a port name'),
  protocol: oneOf(['TCP', 'UDP', 'SCTP']).check((protocol, c) => {
    if (protocol !== 'TCP') {
      c.error(
        `Unsupported value: ${JSON.stringify(protocol)}: lanes proxies HTTP over TCP only; remove this port from the files you apply or use "TCP"`,
      );
    }
  }),
  appProtocol: labelKey,
  port: required(portNumber()),
  targetPort: intOrString().check((target, c) => {
    // Kubernetes defaults 0 and "" to `port` before it validates.
    if (target === 0 || target === '') return;
    if (typeof target === 'number') {
      if (target < 1 || target > 65535) {
        c.error(`Invalid value: ${target}: must be between 1 and 65535, inclusive`);
      }
      return;
    }
    const problem = portNameProblem(target);
    if (problem) c.error(`Invalid value: ${JSON.stringify(target)}: ${problem}`);
  }),
  // Reported as ignored by the spec check, which knows the service type (it is an error on ClusterIP).
  nodePort: int({ min: 0, max: 65535 }),
});

const spec = obj({
  selector: labelMap(),
  ports: list(servicePort),
  type: oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']),
  clusterIP: str(),
  clusterIPs: list(str(), { max: 2 }),
  externalIPs: ignored(NO_NODES, list(str())),
  sessionAffinity: ignored(
    'lanes balances every request on its own (least request), with no client-IP affinity',
    oneOf(['None', 'ClientIP']),
  ),
  sessionAffinityConfig: ignored(
    'lanes balances every request on its own (least request), with no client-IP affinity',
    obj({ clientIP: shape('timeoutSeconds') }),
  ),
  loadBalancerIP: ignored(NO_NODES, str()),
  loadBalancerSourceRanges: ignored(NO_NODES, list(str())),
  loadBalancerClass: ignored(NO_NODES, str()),
  allocateLoadBalancerNodePorts: ignored(NO_NODES, bool()),
  healthCheckNodePort: ignored(NO_NODES, int({ min: 0, max: 65535 })),
  externalTrafficPolicy: ignored(NO_NODES, oneOf(['Cluster', 'Local'])),
  externalName: ignored('only read for type ExternalName, which lanes does not support', str()),
  publishNotReadyAddresses: ignored(
    'local mode publishes no DNS records; lanes routes to instances that are running',
    bool(),
  ),
  ipFamilies: ignored(
    'local mode listens on loopback; the sidecar connects to instances there',
    list(oneOf(['IPv4', 'IPv6']), { max: 2 }),
  ),
  ipFamilyPolicy: ignored(
    'local mode listens on loopback; the sidecar connects to instances there',
    oneOf(['SingleStack', 'PreferDualStack', 'RequireDualStack']),
  ),
  internalTrafficPolicy: ignored(
    'every instance runs on this machine, so Local and Cluster select the same instances',
    oneOf(['Cluster', 'Local']),
  ),
  trafficDistribution: ignored(
    ONE_MACHINE,
    oneOf(['PreferClose', 'PreferSameZone', 'PreferSameNode']),
  ),
})
  .check((s, c) => {
    const type = s.type ?? 'ClusterIP';
    if (type === 'ExternalName') {
      c.error(
        'Unsupported value: "ExternalName": lanes does not support ExternalName services; call the external host by its own name (the sidecar passes unknown hosts through)',
        'type',
      );
      return;
    }
    if (type !== 'ClusterIP') {
      c.ignored(
        `ignored: ${NO_NODES}; a ${type} service is routed like a ClusterIP service`,
        'type',
      );
    }

    const firstIP = s.clusterIP ?? s.clusterIPs?.[0];
    const headless = firstIP === 'None';
    if (
      s.clusterIP !== undefined &&
      s.clusterIPs?.[0] !== undefined &&
      s.clusterIPs[0] !== s.clusterIP
    ) {
      c.error(
        `Invalid value: ${JSON.stringify(s.clusterIPs[0])}: must match \`clusterIP\` when both are set`,
        'clusterIPs',
        0,
      );
    }
    const ips: [string, ...(string | number)[]][] = [];
    if (s.clusterIP !== undefined) ips.push([s.clusterIP, 'clusterIP']);
    s.clusterIPs?.forEach((ip, i) => {
      ips.push([ip, 'clusterIPs', i]);
    });
    for (const [ip, ...at] of ips) {
      const first = at[0] === 'clusterIP' || at[1] === 0;
      if (ip === '' || (ip === 'None' && first)) continue;
      if (ip === 'None') {
        c.error('Invalid value: "None": only the first cluster IP may be "None"', ...at);
      } else if (isIP(ip) === 0) {
        c.error(
          `Invalid value: ${JSON.stringify(ip)}: must be a valid IP address or "None"`,
          ...at,
        );
      }
    }
    if (headless && type !== 'ClusterIP') {
      c.error(
        `Invalid value: "None": may not be set to 'None' for ${type} services`,
        s.clusterIP !== undefined ? 'clusterIP' : 'clusterIPs',
      );
    }
    if (firstIP !== undefined && firstIP !== '' && !headless) {
      c.ignored(
        `ignored: ${NO_CLUSTER_IPS}`,
        s.clusterIP !== undefined ? 'clusterIP' : 'clusterIPs',
      );
    }

    const ports = s.ports ?? [];
    if (ports.length === 0 && !headless) {
      c.error('Required value', 'ports');
    }
    if (ports.length === 0 && headless) {
      c.warn(
        'a headless Service without ports gives lanes no port to route; list the ports its instances serve',
        'ports',
      );
    }
    const names = new Set<string>();
    const keys = new Set<string>();
    ports.forEach((p, i) => {
      if (ports.length > 1 && p.name === undefined) c.error('Required value', 'ports', i, 'name');
      if (p.name !== undefined) {
        if (names.has(p.name))
          c.error(`Duplicate value: ${JSON.stringify(p.name)}`, 'ports', i, 'name');
        names.add(p.name);
      }
      const key = `${p.port}/${p.protocol ?? 'TCP'}`;
      if (keys.has(key)) c.error(`Duplicate value: ${JSON.stringify(key)}`, 'ports', i);
      keys.add(key);
      if (p.nodePort !== undefined) {
        if (type === 'ClusterIP') {
          c.error("Forbidden: may not be used when `type` is 'ClusterIP'", 'ports', i, 'nodePort');
        } else {
          c.ignored(`ignored: ${NO_NODES}`, 'ports', i, 'nodePort');
        }
      }
    });

    if (s.selector === undefined || Object.keys(s.selector).length === 0) {
      c.warn(
        'a Service without a selector has no endpoints in lanes (Endpoints and EndpointSlices are not supported); select the instances by label',
        'selector',
      );
    }
  })
  .map(
    (s): ServiceSpec => ({
      selector: s.selector && Object.keys(s.selector).length > 0 ? s.selector : undefined,
      ports: (s.ports ?? []).map(
        (p): ServicePortSpec => ({
          name: p.name,
          port: p.port,
          // Kubernetes defaults targetPort to port, and treats 0 or "" as unset.
          targetPort:
            p.targetPort === undefined || p.targetPort === 0 || p.targetPort === ''
              ? p.port
              : p.targetPort,
          protocol: 'TCP',
          appProtocol: p.appProtocol,
        }),
      ),
      headless: (s.clusterIP ?? s.clusterIPs?.[0]) === 'None',
    }),
  );

export const serviceKind = defineKind<ServiceSpec>({
  group: '',
  versions: ['v1'],
  kind: 'Service',
  scope: 'Namespaced',
  placement: 'cluster',
  spec,
  specRequired: true,
});
