/**
 * Kubernetes pod shapes (`PodTemplateSpec`, `PodSpec`, `Container`, `EnvVar`, `LabelSelector`)
 * as local mode reads them. Every real field is declared: the ones local mode runs with are
 * parsed into typed output, the rest are accepted and reported as ignored, and the few whose
 * absence would silently change how the app behaves (`valueFrom`, `envFrom`, init containers)
 * are errors. Field lists follow kubernetes/api `core/v1/types.go` (1.34+, including alpha fields).
 */
import { didYouMean } from '../../schema/did-you-mean.ts';
import {
  anyValue,
  bool,
  type CheckContext,
  type Fields,
  ignored,
  int,
  list,
  obj,
  oneOf,
  record,
  required,
  type Schema,
  str,
  unsupported,
} from '../../schema/dsl.ts';
import {
  annotationMap,
  DNS1123_SUBDOMAIN,
  dnsLabel,
  labelKey,
  labelMap,
  labelValue,
  portNumber,
} from '../common.ts';

// ---------------------------------------------------------------------------------------------
// Output types

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Empty for `Exists` and `DoesNotExist`. */
  readonly values: readonly string[];
}

/** A Kubernetes `LabelSelector`: every `matchLabels` pair and every expression must hold. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
}

export interface EnvVar {
  readonly name: string;
  /**
   * As written: `$(NAME)` references are expanded when an instance starts, as Kubernetes expands
   * them when it starts the container (`instance-env.ts` in local mode). An entry without `value`
   * has value `''`.
   */
  readonly value: string;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ContainerPortSpec {
  readonly containerPort: number;
  /** An IANA service name a Service's `targetPort` can refer to. */
  readonly name: string | undefined;
  readonly protocol: Protocol;
}

export interface ContainerSpec {
  readonly name: string;
  /** Optional in a pod template (Kubernetes lets controllers fill it); local mode needs it or `command`. */
  readonly image: string | undefined;
  /**
   * `undefined` means "the image's entrypoint" and is different from any list, as in Kubernetes
   * (an empty list is the same as absent there too). As written: `$(NAME)` references are
   * expanded when an instance starts, with the same rules as `env` values.
   */
  readonly command: readonly string[] | undefined;
  /** `undefined` means "the image's default arguments" (when `command` is also unset). */
  readonly args: readonly string[] | undefined;
  readonly workingDir: string | undefined;
  /** In order; a later entry with the same name wins, as in Kubernetes. */
  readonly env: readonly EnvVar[];
  readonly ports: readonly ContainerPortSpec[];
}

/**
 * One OpenTelemetry operator injection request from the pod annotations
 * (`instrumentation.opentelemetry.io/inject-<language>`). Local mode answers them with
 * OpenTelemetry's Node SDK (SPEC §6), whatever the language: the demo's `inject-java` pods run the
 * built-in mock service, a Node process.
 */
export interface InjectionRequest {
  /** The language part of the annotation: `java`, `nodejs`, `python`, `sdk`, … */
  readonly language: string;
  /**
   * Which Instrumentation resource configures it: `undefined` for `"true"` (the only one in the
   * pod's namespace), otherwise the named one (`name` or `namespace/name`).
   */
  readonly instrumentation:
    | { readonly namespace: string | undefined; readonly name: string }
    | undefined;
  /** Containers to instrument; `undefined` means the first container, as the operator does. */
  readonly containerNames: readonly string[] | undefined;
}

export interface PodTemplate {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerSpec[];
  /** Seconds between SIGTERM and SIGKILL when an instance stops; Kubernetes' default is 30. */
  readonly terminationGracePeriodSeconds: number;
  /** Parsed from the `instrumentation.opentelemetry.io/inject-*` annotations; empty when none. */
  readonly instrumentation: readonly InjectionRequest[];
}

export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;

// ---------------------------------------------------------------------------------------------
// Helpers

/** An object whose field names are checked (typos are errors) but whose values are not read. */
export function shape(...keys: string[]): Schema<unknown> {
  const fields: Fields = {};
  for (const key of keys) fields[key] = anyValue();
  return obj(fields);
}

/**
 * Kubernetes' IANA_SVC_NAME rule for named ports (`validation.IsValidPortName`): at most 15
 * characters, lower-case letters, digits and '-', at least one letter, no '--', no '-' at either end.
 */
export function portNameProblem(name: string): string | undefined {
  if (name.length > 15) return 'must be no more than 15 characters';
  if (!/^[a-z0-9-]*$/.test(name))
    return 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)';
  if (!/[a-z]/.test(name)) return 'must contain at least one letter (a-z)';
  if (name.includes('--')) return 'must not contain consecutive hyphens';
  if (name.startsWith('-') || name.endsWith('-')) return 'must not begin or end with a hyphen';
  return undefined;
}

export function ianaPortName(): Schema<string> {
  return str().check((name, c) => {
    const problem = portNameProblem(name);
    if (problem) c.error(`Invalid value: ${JSON.stringify(name)}: ${problem}`);
  });
}

/** Go's `%#v` of a label map, the way Kubernetes prints one in `Invalid value: map[...]`. */
export function goMap(labels: Readonly<Record<string, string>>): string {
  const entries = Object.keys(labels)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(labels[k])}`);
  return `map[string]string{${entries.join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// Label selectors

const selectorRequirement = obj({
  key: required(labelKey),
  operator: required(oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'])),
  values: list(labelValue),
})
  .check((r, c) => {
    const values = r.values ?? [];
    if ((r.operator === 'In' || r.operator === 'NotIn') && values.length === 0) {
      c.error("Required value: must be specified when `operator` is 'In' or 'NotIn'", 'values');
    }
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && values.length > 0) {
      c.error(
        "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'values',
      );
    }
  })
  .map((r): SelectorRequirement => ({ key: r.key, operator: r.operator, values: r.values ?? [] }));

export const labelSelector: Schema<LabelSelector> = obj({
  matchLabels: labelMap(),
  matchExpressions: list(selectorRequirement),
}).map(
  (s): LabelSelector => ({
    matchLabels: s.matchLabels ?? {},
    matchExpressions: s.matchExpressions ?? [],
  }),
);

/** Whether `labels` satisfy `selector`, with Kubernetes' semantics (`NotIn` holds for a missing label). */
export function selectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  return selector.matchExpressions.every((r) => {
    const value = Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
    if (r.operator === 'In') return value !== undefined && r.values.includes(value);
    if (r.operator === 'NotIn') return value === undefined || !r.values.includes(value);
    return (value !== undefined) === (r.operator === 'Exists');
  });
}

export function selectorIsEmpty(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Environment

const VALUE_FROM =
  'valueFrom (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, fileKeyRef) needs the Kubernetes API, which a local process does not have; set `value` instead so the variable is not silently missing';

/** `EnvVar`; also used by the OpenTelemetry Instrumentation kind, whose `env` is `[]corev1.EnvVar`. */
export const envVar: Schema<EnvVar> = obj({
  name: required(
    str().check((name, c) => {
      if (name === '') {
        c.error('Required value');
        return;
      }
      // The relaxed rule, GA in Kubernetes 1.34 (RelaxedEnvironmentVariableValidation).
      if (!/^[\x20-\x7e]+$/.test(name) || name.includes('=')) {
        c.error(
          `Invalid value: ${JSON.stringify(name)}: a valid environment variable name must consist only of printable ASCII characters other than '='`,
        );
      }
    }),
  ),
  value: str(),
  valueFrom: unsupported(VALUE_FROM),
}).map((e): EnvVar => ({ name: e.name, value: e.value ?? '' }));

/** Warns, as Kubernetes 1.31+ does, when an env entry hides an earlier one with the same name. */
export function checkEnvShadowing(
  env: readonly EnvVar[],
  c: CheckContext,
  ...at: (string | number)[]
): void {
  const seen = new Set<string>();
  env.forEach((e, i) => {
    if (seen.has(e.name)) {
      c.warn(
        `hides previous definition of ${JSON.stringify(e.name)}, which may be dropped when using apply`,
        ...at,
        i,
      );
    }
    seen.add(e.name);
  });
}

/**
 * Expands `$(NAME)` references the way Kubernetes does for `env` values, `command` and `args`
 * (`third_party/forked/golang/expansion`): a defined name is replaced, an undefined one is left as
 * written, `$$` is a literal `$`, and any other `$` stays as it is.
 */
export function expandKubeReferences(
  text: string,
  lookup: (name: string) => string | undefined,
): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < text.length; cursor++) {
    if (text[cursor] !== '$' || cursor + 1 >= text.length) continue;
    out += text.slice(checkpoint, cursor);
    const rest = text.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')');
      if (close < 0) {
        out += '$(';
      } else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + text.slice(checkpoint);
}

/**
 * The environment Kubernetes would give the container: entries in order, each value expanded
 * against `base` and the entries before it, a later entry replacing an earlier one. `base` is what
 * the runtime defines first (Kubernetes: service-link variables).
 */
export function resolveContainerEnv(
  env: readonly EnvVar[],
  base: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = { ...base };
  for (const e of env) {
    out[e.name] = expandKubeReferences(e.value, (n) =>
      Object.hasOwn(out, n) ? out[n] : undefined,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Containers

const NO_IMAGES =
  "local mode pulls no images: it runs the container's command, or lanes' own runner for a known image";
const NO_LIMITS = 'local processes run without resource requests, limits or resizing';
const NO_VOLUMES =
  'local processes use the host file system; volumes are not mounted (read files from their host path)';
const NO_PROBES =
  'lanes does not run Kubernetes probes against local processes; a process that exits is restarted';
const AS_YOUR_USER = "local processes run as your user in the host's namespaces";

const containerPort = obj({
  containerPort: required(portNumber()),
  name: ianaPortName(),
  protocol: oneOf(['TCP', 'UDP', 'SCTP']),
  hostPort: ignored(
    'local processes listen on the port lanes gives them (PORT); there is no host port mapping',
    int({ min: 0, max: 65535 }),
  ),
  hostIP: ignored('local processes listen on loopback; there is no host port mapping', str()),
})
  .check((p, c) => {
    if (p.protocol === 'UDP' || p.protocol === 'SCTP') {
      c.ignored(
        `ignored: lanes proxies HTTP over TCP only; this ${p.protocol} port is not reachable through the mesh`,
        'protocol',
      );
    }
  })
  .map(
    (p): ContainerPortSpec => ({
      containerPort: p.containerPort,
      name: p.name,
      protocol: p.protocol ?? 'TCP',
    }),
  );

const probe = shape(
  'exec',
  'httpGet',
  'tcpSocket',
  'grpc',
  'initialDelaySeconds',
  'timeoutSeconds',
  'periodSeconds',
  'successThreshold',
  'failureThreshold',
  'terminationGracePeriodSeconds',
);

const resources = shape('limits', 'requests', 'claims');

/** Container `SecurityContext` field names (also the operator's init-container security context). */
export const containerSecurityContext = shape(
  'capabilities',
  'privileged',
  'seLinuxOptions',
  'windowsOptions',
  'runAsUser',
  'runAsGroup',
  'runAsNonRoot',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'procMount',
  'seccompProfile',
  'appArmorProfile',
);

const container = obj({
  name: required(dnsLabel('a container name')),
  image: str(),
  command: list(str()),
  args: list(str()),
  workingDir: str(),
  ports: list(containerPort),
  env: list(envVar),
  envFrom: unsupported(
    'envFrom (configMapRef, secretRef) needs the Kubernetes API, which a local process does not have; list the variables under `env` instead so none is silently missing',
  ),
  resources: ignored(NO_LIMITS, resources),
  resizePolicy: ignored(NO_LIMITS, list(shape('resourceName', 'restartPolicy'))),
  restartPolicy: ignored(
    'local mode restarts an exited process by itself',
    oneOf(['Always', 'OnFailure', 'Never']),
  ),
  restartPolicyRules: ignored(
    'local mode restarts an exited process by itself',
    list(shape('action', 'exitCodes')),
  ),
  volumeMounts: ignored(
    NO_VOLUMES,
    list(
      shape(
        'name',
        'readOnly',
        'recursiveReadOnly',
        'mountPath',
        'subPath',
        'mountPropagation',
        'subPathExpr',
        'bindMountOptions',
      ),
    ),
  ),
  volumeDevices: ignored(NO_VOLUMES, list(shape('name', 'devicePath'))),
  livenessProbe: ignored(NO_PROBES, probe),
  readinessProbe: ignored(NO_PROBES, probe),
  startupProbe: ignored(NO_PROBES, probe),
  lifecycle: ignored(
    'lanes runs no postStart or preStop hooks; a stopping process gets SIGTERM, then SIGKILL after terminationGracePeriodSeconds',
    shape('postStart', 'preStop', 'stopSignal'),
  ),
  terminationMessagePath: ignored("a local process's output is read with `lanes logs`", str()),
  terminationMessagePolicy: ignored(
    "a local process's output is read with `lanes logs`",
    oneOf(['File', 'FallbackToLogsOnError']),
  ),
  imagePullPolicy: ignored(NO_IMAGES, oneOf(['Always', 'Never', 'IfNotPresent'])),
  securityContext: ignored(AS_YOUR_USER, containerSecurityContext),
  stdin: ignored('local processes get no stdin or terminal', bool()),
  stdinOnce: ignored('local processes get no stdin or terminal', bool()),
  tty: ignored('local processes get no stdin or terminal', bool()),
})
  .check((ctr, c) => {
    if (ctr.env) checkEnvShadowing(ctr.env, c, 'env');
  })
  .map(
    (ctr): ContainerSpec => ({
      name: ctr.name,
      image: ctr.image,
      // Kubernetes treats an empty command or args list as unset (`omitempty`).
      command: ctr.command && ctr.command.length > 0 ? ctr.command : undefined,
      args: ctr.args && ctr.args.length > 0 ? ctr.args : undefined,
      workingDir: ctr.workingDir === '' ? undefined : ctr.workingDir,
      env: ctr.env ?? [],
      ports: ctr.ports ?? [],
    }),
  );

// ---------------------------------------------------------------------------------------------
// Pod spec and template

const NO_SCHEDULER = 'local mode runs every instance on this machine; there is no scheduler';
const NO_CREDENTIALS = 'local processes get no Kubernetes service account or credentials';
const HOST_NAMES =
  "local processes use the host's name resolution; they reach services by name through their sidecar (http_proxy)";

const podSpec = obj({
  containers: required(list(container, { min: 1 })),
  initContainers: unsupported(
    'init containers do not run in local mode; do that step before `lanes apply`, or start it from the container command',
  ),
  ephemeralContainers: anyValue().check((_, c) =>
    c.error('Forbidden: ephemeral containers not allowed in pod template'),
  ),
  // Kubernetes allows only `Always` in a Deployment, which is what local mode does anyway.
  restartPolicy: oneOf(['Always']),
  terminationGracePeriodSeconds: int({ min: 0 }),
  activeDeadlineSeconds: anyValue().check((v, c) =>
    c.error(
      `Invalid value: ${JSON.stringify(v)}: activeDeadlineSeconds is not supported in a Deployment's pod template (Kubernetes rejects it too)`,
    ),
  ),
  volumes: ignored(
    NO_VOLUMES,
    list(
      shape(
        'name',
        'hostPath',
        'emptyDir',
        'gcePersistentDisk',
        'awsElasticBlockStore',
        'gitRepo',
        'secret',
        'nfs',
        'iscsi',
        'glusterfs',
        'persistentVolumeClaim',
        'rbd',
        'flexVolume',
        'cinder',
        'cephfs',
        'flocker',
        'downwardAPI',
        'fc',
        'azureFile',
        'configMap',
        'vsphereVolume',
        'quobyte',
        'azureDisk',
        'photonPersistentDisk',
        'projected',
        'portworxVolume',
        'scaleIO',
        'storageos',
        'csi',
        'ephemeral',
        'image',
      ),
    ),
  ),
  dnsPolicy: ignored(
    HOST_NAMES,
    oneOf(['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']),
  ),
  dnsConfig: ignored(HOST_NAMES, shape('nameservers', 'searches', 'options')),
  hostname: ignored(HOST_NAMES, str()),
  hostnameOverride: ignored(HOST_NAMES, str()),
  subdomain: ignored(HOST_NAMES, str()),
  setHostnameAsFQDN: ignored(HOST_NAMES, bool()),
  hostAliases: ignored(HOST_NAMES, list(shape('ip', 'hostnames'))),
  enableServiceLinks: ignored(
    'lanes does not inject service-link variables (MOCKB_SERVICE_HOST, …); call services by name',
    bool(),
  ),
  nodeSelector: ignored(NO_SCHEDULER, record(str())),
  nodeName: ignored(NO_SCHEDULER, str()),
  affinity: ignored(NO_SCHEDULER, shape('nodeAffinity', 'podAffinity', 'podAntiAffinity')),
  tolerations: ignored(
    NO_SCHEDULER,
    list(shape('key', 'operator', 'value', 'effect', 'tolerationSeconds')),
  ),
  schedulerName: ignored(NO_SCHEDULER, str()),
  priority: ignored(NO_SCHEDULER, int()),
  priorityClassName: ignored(NO_SCHEDULER, str()),
  preemptionPolicy: ignored(NO_SCHEDULER, oneOf(['PreemptLowerPriority', 'Never'])),
  topologySpreadConstraints: ignored(
    NO_SCHEDULER,
    list(
      shape(
        'maxSkew',
        'topologyKey',
        'whenUnsatisfiable',
        'labelSelector',
        'minDomains',
        'nodeAffinityPolicy',
        'nodeTaintsPolicy',
        'matchLabelKeys',
      ),
    ),
  ),
  schedulingGates: ignored(NO_SCHEDULER, list(shape('name'))),
  schedulingGroup: ignored(NO_SCHEDULER, shape('podGroupName')),
  readinessGates: ignored(NO_SCHEDULER, list(shape('conditionType'))),
  runtimeClassName: ignored(NO_SCHEDULER, str()),
  overhead: ignored(NO_SCHEDULER, anyValue()),
  evictionResponders: ignored(NO_SCHEDULER, list(shape('name', 'priority'))),
  os: ignored("local processes run on this machine's operating system", shape('name')),
  resources: ignored(NO_LIMITS, resources),
  resourceClaims: ignored(
    NO_LIMITS,
    list(shape('name', 'resourceClaimName', 'resourceClaimTemplateName')),
  ),
  serviceAccountName: ignored(NO_CREDENTIALS, str()),
  serviceAccount: ignored(NO_CREDENTIALS, str()),
  automountServiceAccountToken: ignored(NO_CREDENTIALS, bool()),
  imagePullSecrets: ignored(NO_IMAGES, list(shape('name'))),
  securityContext: ignored(
    AS_YOUR_USER,
    shape(
      'seLinuxOptions',
      'windowsOptions',
      'runAsUser',
      'runAsGroup',
      'runAsNonRoot',
      'supplementalGroups',
      'supplementalGroupsPolicy',
      'fsGroup',
      'sysctls',
      'fsGroupChangePolicy',
      'seccompProfile',
      'appArmorProfile',
      'seLinuxChangePolicy',
    ),
  ),
  hostUsers: ignored(AS_YOUR_USER, bool()),
  hostNetwork: ignored(AS_YOUR_USER, bool()),
  hostPID: ignored(AS_YOUR_USER, bool()),
  hostIPC: ignored(AS_YOUR_USER, bool()),
  shareProcessNamespace: ignored(AS_YOUR_USER, bool()),
}).check((spec, c) => {
  const names = new Set<string>();
  const portNames = new Set<string>();
  spec.containers.forEach((ctr, i) => {
    if (names.has(ctr.name)) {
      c.error(`Duplicate value: ${JSON.stringify(ctr.name)}`, 'containers', i, 'name');
    }
    names.add(ctr.name);
    // Kubernetes requires port names to be unique across all containers of the pod.
    ctr.ports.forEach((p, j) => {
      if (p.name === undefined) return;
      if (portNames.has(p.name)) {
        c.error(`Duplicate value: ${JSON.stringify(p.name)}`, 'containers', i, 'ports', j, 'name');
      }
      portNames.add(p.name);
    });
  });
});

const SET_BY_API_SERVER = 'set by the API server, not by the files you apply';

const templateMetadata = obj({
  labels: labelMap(),
  annotations: annotationMap(),
  name: ignored("lanes names a Deployment's instances itself", str()),
  generateName: ignored("lanes names a Deployment's instances itself", str()),
  namespace: ignored("instances run in the Deployment's namespace", str()),
  uid: ignored(SET_BY_API_SERVER),
  resourceVersion: ignored(SET_BY_API_SERVER),
  generation: ignored(SET_BY_API_SERVER),
  creationTimestamp: ignored(SET_BY_API_SERVER),
  deletionTimestamp: ignored(SET_BY_API_SERVER),
  deletionGracePeriodSeconds: ignored(SET_BY_API_SERVER),
  managedFields: ignored(SET_BY_API_SERVER),
  selfLink: ignored(SET_BY_API_SERVER),
  ownerReferences: ignored('lanes does not garbage-collect by owner'),
  finalizers: ignored('lanes does not run finalizers'),
});

export const podTemplate: Schema<PodTemplate> = obj({
  metadata: templateMetadata,
  spec: required(podSpec),
})
  .check((t, c) => {
    const annotations = t.metadata?.annotations ?? {};
    parseInjection(annotations, t.spec.containers, c);
  })
  .map((t): PodTemplate => {
    const annotations = t.metadata?.annotations ?? {};
    return {
      labels: t.metadata?.labels ?? {},
      annotations,
      containers: t.spec.containers,
      terminationGracePeriodSeconds:
        t.spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
      instrumentation: parseInjection(annotations, t.spec.containers, undefined),
    };
  });

// ---------------------------------------------------------------------------------------------
// OpenTelemetry operator injection annotations

const OTEL = 'instrumentation.opentelemetry.io/';

/** `inject-<language>` → its own container-names annotation (the nginx one is spelt differently). */
const INJECT_LANGUAGES: Record<string, string> = {
  java: 'java-container-names',
  nodejs: 'nodejs-container-names',
  python: 'python-container-names',
  dotnet: 'dotnet-container-names',
  go: 'go-container-names',
  'apache-httpd': 'apache-httpd-container-names',
  nginx: 'inject-nginx-container-names',
  sdk: 'sdk-container-names',
};

const INJECT_KEYS = Object.keys(INJECT_LANGUAGES).map((l) => `${OTEL}inject-${l}`);

/**
 * Reads the operator's injection annotations. With `c` it reports problems (a misspelt
 * `inject-*` would silently not instrument, and then lane tags stop at the first hop); without it
 * it only builds the result, from input already checked.
 */
function parseInjection(
  annotations: Readonly<Record<string, string>>,
  containers: readonly ContainerSpec[],
  c: CheckContext | undefined,
): InjectionRequest[] {
  const out: InjectionRequest[] = [];
  const at = (key: string) => ['metadata', 'annotations', key] as const;
  for (const [key, raw] of Object.entries(annotations)) {
    if (!key.startsWith(`${OTEL}inject-`) || key.endsWith('-container-names')) continue;
    const language = key.slice(`${OTEL}inject-`.length);
    const ownNames = INJECT_LANGUAGES[language];
    if (ownNames === undefined) {
      const guess = didYouMean(key, INJECT_KEYS);
      c?.warn(
        `unknown OpenTelemetry operator annotation ${JSON.stringify(key)}: nothing is injected; ${guess ? `did you mean ${JSON.stringify(guess)}?` : `known: ${INJECT_KEYS.join(', ')}`}`,
        ...at(key),
      );
      continue;
    }
    const value = raw.trim();
    if (value.toLowerCase() === 'false') continue;
    let instrumentation: InjectionRequest['instrumentation'];
    if (value.toLowerCase() !== 'true') {
      const slash = value.indexOf('/');
      const namespace = slash < 0 ? undefined : value.slice(0, slash);
      const name = slash < 0 ? value : value.slice(slash + 1);
      const valid =
        DNS1123_SUBDOMAIN.test(name) &&
        (namespace === undefined || DNS1123_SUBDOMAIN.test(namespace));
      if (!valid) {
        c?.error(
          `Invalid value: ${JSON.stringify(raw)}: must be "true", "false", the name of an Instrumentation, or namespace/name`,
          ...at(key),
        );
        continue;
      }
      instrumentation = { namespace, name };
    }
    const namesKey = Object.hasOwn(annotations, `${OTEL}${ownNames}`)
      ? `${OTEL}${ownNames}`
      : `${OTEL}container-names`;
    const namesValue = annotations[namesKey];
    let containerNames: string[] | undefined;
    if (namesValue !== undefined) {
      containerNames = namesValue
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '');
      for (const n of containerNames) {
        if (!containers.some((ctr) => ctr.name === n)) {
          c?.error(
            `Invalid value: ${JSON.stringify(n)}: no container of this pod template has that name; known: ${containers.map((ctr) => ctr.name).join(', ')}`,
            ...at(namesKey),
          );
        }
      }
    }
    out.push({ language, instrumentation, containerNames });
  }
  return out;
}
