import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { storyCopies } from '../../../../scripts/story.ts';
import type { Issue } from '../../source/issues.ts';
import { parseYamlDocuments } from '../../yaml/parse.ts';
import { type ParsedResource, parseResource } from '../document.ts';
import type { ServiceSpec } from './index.ts';

function parseAll(text: string, file = 'svc.yaml') {
  const { documents, issues } = parseYamlDocuments(text, file);
  assert.deepEqual(issues, []);
  return documents.map((d) => parseResource(d));
}

function parseOne(text: string) {
  const [parsed] = parseAll(text);
  assert.ok(parsed);
  return parsed;
}

function specOf<T>(r: ParsedResource | undefined): T {
  assert.ok(r?.resource, `not accepted: ${JSON.stringify(r?.issues)}`);
  return r.resource.spec as T;
}

const errors = (issues: readonly Issue[]) => issues.filter((i) => i.severity === 'error');

function service(spec: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: mocka
spec:
${spec}
`;
}

const PORTS = '  ports:\n  - port: 8000\n    name: http';
const SELECTOR = '  selector:\n    app: mocka';

describe('Service', () => {
  for (const copy of storyCopies()) {
    for (const file of ['mock.yaml', 'dev-services.yaml']) {
      const title = `every Service in ${file} of ${copy.name} parses with no errors and no notes`;
      if ('skip' in copy) {
        it(title, { skip: copy.skip }, () => {});
        continue;
      }
      it(title, () => {
        const text = readFileSync(join(copy.dir, file), 'utf8');
        const services = parseAll(text, file).filter((r) => r.resource?.kind === 'Service');
        assert.equal(services.length, 3);
        for (const r of services) {
          assert.deepEqual(r.issues, []);
          const spec = specOf<ServiceSpec>(r);
          assert.deepEqual(spec.ports, [
            { name: 'http', port: 8000, targetPort: 8000, protocol: 'TCP', appProtocol: undefined },
          ]);
          assert.equal(spec.headless, false);
          assert.deepEqual(spec.selector, { app: r.resource?.metadata.name });
        }
      });
    }
  }

  it('targetPort keeps a number or a container port name, and appProtocol is read', () => {
    const r = parseOne(
      service(`${SELECTOR}
  type: ClusterIP
  ports:
  - {name: http, port: 80, targetPort: web, appProtocol: http}
  - {name: grpc, port: 9090, targetPort: 19090, protocol: TCP, appProtocol: kubernetes.io/h2c}`),
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual(specOf<ServiceSpec>(r).ports, [
      { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP', appProtocol: 'http' },
      {
        name: 'grpc',
        port: 9090,
        targetPort: 19090,
        protocol: 'TCP',
        appProtocol: 'kubernetes.io/h2c',
      },
    ]);
  });

  it('clusterIP None makes a headless service, which may have no ports (with a warning)', () => {
    const r = parseOne(service(`${SELECTOR}\n  clusterIP: None`));
    assert.deepEqual(errors(r.issues), []);
    assert.equal(specOf<ServiceSpec>(r).headless, true);
    assert.deepEqual(
      r.issues.map((i) => [i.severity, i.path]),
      [['warning', 'spec.ports']],
    );
  });

  it('a service without a selector is accepted with a warning that it gets no endpoints', () => {
    const r = parseOne(service(PORTS));
    assert.deepEqual(errors(r.issues), []);
    assert.equal(specOf<ServiceSpec>(r).selector, undefined);
    const warning = r.issues.find((i) => i.severity === 'warning');
    assert.match(warning?.message ?? '', /has no endpoints in lanes/);
  });

  const errorCases: {
    name: string;
    spec: string;
    path: string;
    message: string | RegExp;
    at?: [number, number];
  }[] = [
    {
      name: 'a UDP port is an error: lanes proxies HTTP over TCP only',
      spec: `${SELECTOR}\n  ports:\n  - {port: 53, protocol: UDP}`,
      path: 'spec.ports[0].protocol',
      message: 'Unsupported value: "UDP": lanes proxies HTTP over TCP only',
    },
    {
      name: 'an SCTP port is an error',
      spec: `${SELECTOR}\n  ports:\n  - {port: 53, protocol: SCTP}`,
      path: 'spec.ports[0].protocol',
      message: 'Unsupported value: "SCTP"',
    },
    {
      name: 'a protocol Kubernetes does not have lists the supported values',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, protocol: HTTP}`,
      path: 'spec.ports[0].protocol',
      message: 'Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"',
    },
    {
      name: 'an ExternalName service is an error that says what to do instead',
      spec: '  type: ExternalName\n  externalName: example.com',
      path: 'spec.type',
      message: /lanes does not support ExternalName services; call the external host/,
    },
    {
      name: 'port 0 is out of range',
      spec: `${SELECTOR}\n  ports:\n  - port: 0`,
      path: 'spec.ports[0].port',
      message: 'Invalid value: 0: must be between 1 and 65535',
    },
    {
      name: 'a port above 65535 is out of range, reported at its line and column',
      spec: `${SELECTOR}\n  ports:\n  - port: 65536`,
      path: 'spec.ports[0].port',
      message: 'Invalid value: 65536: must be between 1 and 65535',
      at: [9, 11],
    },
    {
      name: 'a port entry without port is a required value',
      spec: `${SELECTOR}\n  ports:\n  - name: http`,
      path: 'spec.ports[0].port',
      message: 'Required value',
    },
    {
      name: 'a non-headless service needs ports',
      spec: SELECTOR,
      path: 'spec.ports',
      message: 'Required value',
    },
    {
      name: 'with more than one port every port needs a name',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, name: http}\n  - {port: 81}`,
      path: 'spec.ports[1].name',
      message: 'Required value',
    },
    {
      name: 'port names must be unique',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, name: http}\n  - {port: 81, name: http}`,
      path: 'spec.ports[1].name',
      message: 'Duplicate value: "http"',
    },
    {
      name: 'the same port and protocol twice is a duplicate',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, name: a}\n  - {port: 80, name: b}`,
      path: 'spec.ports[1]',
      message: 'Duplicate value: "80/TCP"',
    },
    {
      name: 'a port name that is not a DNS label is invalid',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, name: HTTP_1}`,
      path: 'spec.ports[0].name',
      message: 'a port name must be a DNS-1123 label',
    },
    {
      name: 'a targetPort name with consecutive hyphens is invalid',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, targetPort: web--1}`,
      path: 'spec.ports[0].targetPort',
      message: 'must not contain consecutive hyphens',
    },
    {
      name: 'a targetPort number above 65535 is invalid',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, targetPort: 70000}`,
      path: 'spec.ports[0].targetPort',
      message: 'Invalid value: 70000: must be between 1 and 65535, inclusive',
    },
    {
      name: 'a nodePort on a ClusterIP service is forbidden, as in Kubernetes',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, nodePort: 30080}`,
      path: 'spec.ports[0].nodePort',
      message: "Forbidden: may not be used when `type` is 'ClusterIP'",
    },
    {
      name: 'a headless LoadBalancer is invalid',
      spec: `${SELECTOR}\n  type: LoadBalancer\n  clusterIP: None\n${PORTS}`,
      path: 'spec.clusterIP',
      message: "may not be set to 'None' for LoadBalancer services",
    },
    {
      name: 'a clusterIP that is not an IP address is invalid',
      spec: `${SELECTOR}\n  clusterIP: 10.0.0.300\n${PORTS}`,
      path: 'spec.clusterIP',
      message: 'must be a valid IP address or "None"',
    },
    {
      name: 'a misspelt spec field is an error with a suggestion and its position',
      spec: `  selectr:\n    app: mocka\n${PORTS}`,
      path: 'spec.selectr',
      message: 'unknown field "selectr": did you mean "selector"?',
      at: [6, 3],
    },
    {
      name: 'a misspelt port field is an error with a suggestion',
      spec: `${SELECTOR}\n  ports:\n  - {port: 80, targetport: 8080}`,
      path: 'spec.ports[0].targetport',
      message: 'did you mean "targetPort"?',
    },
    {
      name: 'an unknown trafficDistribution value is an error even though the field is ignored',
      spec: `${SELECTOR}\n${PORTS}\n  trafficDistribution: PreferNearby`,
      path: 'spec.trafficDistribution',
      message: 'Unsupported value: "PreferNearby"',
    },
  ];

  for (const c of errorCases) {
    it(c.name, () => {
      const r = parseOne(service(c.spec));
      assert.equal(r.resource, undefined);
      const found = errors(r.issues).find((i) => i.path === c.path);
      assert.ok(found, `no error at ${c.path}; got ${JSON.stringify(r.issues, null, 1)}`);
      if (typeof c.message === 'string')
        assert.ok(found.message.includes(c.message), found.message);
      else assert.match(found.message, c.message);
      assert.equal(found.file, 'svc.yaml');
      assert.equal(found.resource, 'Service default/mocka');
      if (c.at) assert.deepEqual([found.line, found.col], c.at);
    });
  }

  const ignoredCases: { name: string; spec: string; path: string; reason: RegExp }[] = [
    {
      name: 'type NodePort is routed as ClusterIP, with a note',
      spec: `${SELECTOR}\n  type: NodePort\n  ports:\n  - {port: 80, nodePort: 30080}`,
      path: 'spec.type',
      reason: /routed like a ClusterIP service/,
    },
    {
      name: 'a nodePort on a NodePort service is ignored',
      spec: `${SELECTOR}\n  type: NodePort\n  ports:\n  - {port: 80, nodePort: 30080}`,
      path: 'spec.ports[0].nodePort',
      reason: /no nodes/,
    },
    {
      name: 'type LoadBalancer is routed as ClusterIP, with a note',
      spec: `${SELECTOR}\n  type: LoadBalancer\n${PORTS}`,
      path: 'spec.type',
      reason: /no nodes or cloud load balancers/,
    },
    {
      name: 'a fixed clusterIP is ignored',
      spec: `${SELECTOR}\n  clusterIP: 10.96.0.10\n${PORTS}`,
      path: 'spec.clusterIP',
      reason: /assigns no cluster IPs/,
    },
    {
      name: 'sessionAffinity is ignored',
      spec: `${SELECTOR}\n${PORTS}\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}`,
      path: 'spec.sessionAffinity',
      reason: /no client-IP affinity/,
    },
    {
      name: 'ipFamilies is ignored',
      spec: `${SELECTOR}\n${PORTS}\n  ipFamilies: [IPv4]\n  ipFamilyPolicy: SingleStack`,
      path: 'spec.ipFamilies',
      reason: /loopback/,
    },
    {
      name: 'trafficDistribution is ignored',
      spec: `${SELECTOR}\n${PORTS}\n  trafficDistribution: PreferSameZone`,
      path: 'spec.trafficDistribution',
      reason: /no zone or node to prefer/,
    },
    {
      name: 'internalTrafficPolicy is ignored',
      spec: `${SELECTOR}\n${PORTS}\n  internalTrafficPolicy: Local`,
      path: 'spec.internalTrafficPolicy',
      reason: /Local and Cluster select the same instances/,
    },
  ];

  for (const c of ignoredCases) {
    it(c.name, () => {
      const r = parseOne(service(c.spec));
      assert.deepEqual(errors(r.issues), []);
      assert.ok(r.resource);
      const note = r.resource.notes.find((n) => n.path === c.path);
      assert.ok(note, `no note at ${c.path}; got ${JSON.stringify(r.resource.notes)}`);
      assert.equal(note.severity, 'ignored');
      assert.match(note.message, /^ignored: /);
      assert.match(note.message, c.reason);
      assert.ok(note.line > 0);
    });
  }

  it('a NodePort service gives the same typed spec as a ClusterIP one', () => {
    const r = parseOne(
      service(`${SELECTOR}\n  type: NodePort\n  ports:\n  - {port: 80, nodePort: 30080}`),
    );
    assert.deepEqual(r.resource?.spec, {
      selector: { app: 'mocka' },
      ports: [
        { name: undefined, port: 80, targetPort: 80, protocol: 'TCP', appProtocol: undefined },
      ],
      headless: false,
    });
  });
});
