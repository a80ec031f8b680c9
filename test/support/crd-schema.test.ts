/**
 * The CRD-schema validator (crd-schema.ts) against Istio's own example resources, the Bookinfo
 * samples, and hand-written bad documents.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  celRuleSites,
  formatFieldErrors,
  loadCrdSchemas,
  parseCrdSchemas,
  parseGoDuration,
  unimplementedCelRules,
  validateAgainstCrd,
} from './crd-schema.ts';

const ISTIO = new URL('../data/istio/', import.meta.url);
const schemas = loadCrdSchemas();

type Obj = Record<string, unknown>;

function documents(url: URL): Obj[] {
  return parseAllDocuments(readFileSync(url, 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((d): d is Obj => typeof d === 'object' && d !== null);
}

function check(doc: unknown): string[] {
  return formatFieldErrors(validateAgainstCrd(schemas, doc));
}

function resource(kind: string, spec: unknown, extra: Obj = {}): Obj {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind,
    metadata: { name: 'reviews' },
    spec,
    ...extra,
  };
}

const vs = (spec: unknown, extra?: Obj): Obj => resource('VirtualService', spec, extra);
const dr = (spec: unknown, extra?: Obj): Obj => resource('DestinationRule', spec, extra);
const gw = (spec: unknown): Obj => resource('Gateway', spec);
const se = (spec: unknown): Obj => resource('ServiceEntry', spec);

/** A VirtualService with one HTTP route whose single route entry is `route` plus `http` extras. */
function vsRoute(route: Obj, http: Obj = {}): Obj {
  return vs({ hosts: ['reviews'], http: [{ route: [route], ...http }] });
}

/** A Gateway with one HTTPS server whose `tls` is given. */
function gwTls(tls: Obj): Obj {
  return gw({
    servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls }],
  });
}

const dest = { destination: { host: 'reviews' } };

describe('Istio example resources', () => {
  it('every document of destinationrule-valid.yaml validates with no errors', () => {
    const docs = documents(new URL('destinationrule-valid.yaml', ISTIO));
    assert.equal(docs.length, 4);
    for (const [i, doc] of docs.entries()) assert.deepEqual(check(doc), [], `document ${i}`);
  });

  const invalid = documents(new URL('destinationrule-invalid.yaml', ISTIO));
  it('destinationrule-invalid.yaml holds three documents, each with an _err annotation', () => {
    assert.equal(invalid.length, 3);
    for (const doc of invalid) assert.equal(typeof doc._err, 'string');
  });
  for (const { _err, ...doc } of invalid) {
    it(`destinationrule-invalid.yaml: the one error is "${String(_err)}"`, () => {
      const errors = check(doc);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.ok(errors[0]?.startsWith(String(_err)), `${errors[0]} should start with ${_err}`);
    });
  }

  const bookinfo = readdirSync(new URL('bookinfo/', ISTIO)).filter((f) => f.endsWith('.yaml'));
  it('the Bookinfo samples hold 21 files of Gateway, VirtualService, DestinationRule and ServiceEntry', () => {
    assert.equal(bookinfo.length, 21);
    const kinds = new Set(
      bookinfo.flatMap((f) => documents(new URL(`bookinfo/${f}`, ISTIO))).map((d) => d.kind),
    );
    assert.deepEqual([...kinds].sort(), [
      'DestinationRule',
      'Gateway',
      'ServiceEntry',
      'VirtualService',
    ]);
  });
  for (const file of bookinfo) {
    it(`every document of bookinfo/${file} validates with no errors`, () => {
      for (const [i, doc] of documents(new URL(`bookinfo/${file}`, ISTIO)).entries()) {
        assert.deepEqual(check(doc), [], `${file} document ${i} (${String(doc.kind)})`);
      }
    });
  }
});

interface Case {
  readonly title: string;
  readonly doc: unknown;
  readonly errors: readonly string[];
}

const rejected: readonly Case[] = [
  // Unknown fields.
  {
    title: 'an unknown spec field is reported as unknown, not pruned',
    doc: vs({ hosts: ['reviews'], foo: 1 }),
    errors: ['spec.foo: unknown field'],
  },
  {
    title: 'a misspelt destination host is an unknown field and leaves host missing',
    doc: vsRoute({ destination: { hots: 'reviews' } }),
    errors: [
      'spec.http[0].route[0].destination.hots: unknown field',
      'spec.http[0].route[0].destination.host: Required value',
    ],
  },
  {
    title: 'a misspelt root field (specs) is an unknown field',
    doc: { ...vs({ hosts: ['reviews'] }), specs: {} },
    errors: ['specs: unknown field'],
  },
  {
    title: 'an unknown field with a non-identifier name gets a bracketed path',
    doc: vs({ hosts: ['reviews'], 'end-user': 'jason' }),
    errors: ['spec["end-user"]: unknown field'],
  },
  // Types.
  {
    title: 'a weight written as a string is not an integer',
    doc: vsRoute({ ...dest, weight: '80' }),
    errors: [
      'spec.http[0].route[0].weight: Invalid value: "string": spec.http[0].route[0].weight in body must be of type integer: "string"',
    ],
  },
  {
    title: 'hosts written as a single string is not an array',
    doc: vs({ hosts: 'reviews' }),
    errors: [
      'spec.hosts: Invalid value: "string": spec.hosts in body must be of type array: "string"',
    ],
  },
  {
    title: 'retries.attempts of 1.5 is not an integer',
    doc: vsRoute(dest, { retries: { attempts: 1.5 } }),
    errors: [
      'spec.http[0].retries.attempts: Invalid value: "number": spec.http[0].retries.attempts in body must be of type integer: "number"',
    ],
  },
  {
    title: 'a null HTTP route (a list item) is a type error, it is not pruned',
    doc: vs({ hosts: ['reviews'], http: [null] }),
    errors: [
      'spec.http[0]: Invalid value: "null": spec.http[0] in body must be of type object: "null"',
    ],
  },
  // Enums.
  {
    title: 'an unknown simple load balancer is not in the enum',
    doc: dr({ host: 'reviews', trafficPolicy: { loadBalancer: { simple: 'RANDOMIZED' } } }),
    errors: [
      'spec.trafficPolicy.loadBalancer.simple: Unsupported value: "RANDOMIZED": supported values: "UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"',
    ],
  },
  {
    title: 'TLS mode values are case-sensitive (istio_mutual)',
    doc: dr({ host: 'reviews', trafficPolicy: { tls: { mode: 'istio_mutual' } } }),
    errors: [
      'spec.trafficPolicy.tls.mode: Unsupported value: "istio_mutual": supported values: "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"',
    ],
  },
  // Required fields.
  {
    title: 'a DestinationRule needs spec.host',
    doc: dr({ subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
    errors: ['spec.host: Required value'],
  },
  {
    title: 'a DestinationRule subset needs a name',
    doc: dr({ host: 'reviews', subsets: [{ labels: { version: 'v1' } }] }),
    errors: ['spec.subsets[0].name: Required value'],
  },
  {
    title: 'an HTTP route entry needs a destination',
    doc: vsRoute({ weight: 100 }),
    errors: ['spec.http[0].route[0].destination: Required value'],
  },
  {
    title: 'a null destination is pruned, so the destination is missing',
    doc: vsRoute({ destination: null }),
    errors: ['spec.http[0].route[0].destination: Required value'],
  },
  {
    title: 'a Gateway server needs a port and hosts',
    doc: gw({ servers: [{ bind: '0.0.0.0' }] }),
    errors: ['spec.servers[0].port: Required value', 'spec.servers[0].hosts: Required value'],
  },
  // oneOf (protobuf oneofs).
  {
    title: 'a URI StringMatch with both exact and prefix breaks its oneOf',
    doc: vsRoute(dest, { match: [{ uri: { exact: '/a', prefix: '/b' } }] }),
    errors: [
      'spec.http[0].match[0].uri: Invalid value: "object": spec.http[0].match[0].uri must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ],
  },
  {
    title:
      'a header StringMatch under a non-identifier key (end-user) breaks its oneOf at a bracketed path',
    doc: vsRoute(dest, { match: [{ headers: { 'end-user': { exact: 'jason', regex: 'j.*' } } }] }),
    errors: [
      'spec.http[0].match[0].headers["end-user"]: Invalid value: "object": spec.http[0].match[0].headers["end-user"] must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ],
  },
  {
    title: 'a fault delay with both fixedDelay and exponentialDelay breaks its oneOf',
    doc: vsRoute(dest, { fault: { delay: { fixedDelay: '5s', exponentialDelay: '1s' } } }),
    errors: [
      'spec.http[0].fault.delay: Invalid value: "object": spec.http[0].fault.delay must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ],
  },
  // Numbers and formats.
  {
    title: 'a weight of 2^31 overflows format int32',
    doc: vsRoute({ ...dest, weight: 2147483648 }),
    errors: [
      'spec.http[0].route[0].weight: Invalid value: 2147483648: Checked value must be of type integer with format int32 in spec.http[0].route[0].weight',
    ],
  },
  {
    title: 'warmup minimumPercent of 100.5 is over the maximum of 100',
    doc: dr({
      host: 'reviews',
      trafficPolicy: { loadBalancer: { warmup: { duration: '60s', minimumPercent: 100.5 } } },
    }),
    errors: [
      'spec.trafficPolicy.loadBalancer.warmup.minimumPercent: Invalid value: 100.5: spec.trafficPolicy.loadBalancer.warmup.minimumPercent in body should be less than or equal to 100',
    ],
  },
  {
    title: 'a directResponse status above uint32 is over the maximum',
    doc: vs({ hosts: ['reviews'], http: [{ directResponse: { status: 4294967296 } }] }),
    errors: [
      'spec.http[0].directResponse.status: Invalid value: 4294967296: spec.http[0].directResponse.status in body should be less than or equal to 4294967295',
    ],
  },
  {
    title: 'a directResponse body in bytes must be base64 (format byte)',
    doc: vs({
      hosts: ['reviews'],
      http: [{ directResponse: { status: 200, body: { bytes: 'not base64!' } } }],
    }),
    errors: [
      'spec.http[0].directResponse.body.bytes: Invalid value: "not base64!": spec.http[0].directResponse.body.bytes in body must be of type byte: "not base64!"',
    ],
  },
  {
    title: 'an empty string is not valid format byte either (govalidator.IsBase64)',
    doc: vs({
      hosts: ['reviews'],
      http: [{ directResponse: { status: 200, body: { bytes: '' } } }],
    }),
    errors: [
      'spec.http[0].directResponse.body.bytes: Invalid value: "": spec.http[0].directResponse.body.bytes in body must be of type byte: ""',
    ],
  },
  {
    title: 'a status condition time must be format date-time',
    doc: vs(
      { hosts: ['reviews'] },
      {
        status: {
          conditions: [{ type: 'Reconciled', lastTransitionTime: '2024-02-30T10:00:00Z' }],
        },
      },
    ),
    errors: [
      'status.conditions[0].lastTransitionTime: Invalid value: "2024-02-30T10:00:00Z": status.conditions[0].lastTransitionTime in body must be of type date-time: "2024-02-30T10:00:00Z"',
    ],
  },
  {
    title: 'status observedGeneration must be an integer or a string (x-kubernetes-int-or-string)',
    doc: vs({ hosts: ['reviews'] }, { status: { observedGeneration: true } }),
    errors: [
      'status.observedGeneration: Invalid value: "boolean": status.observedGeneration in body must be of type integer,string: "boolean"',
    ],
  },
  // Lengths and counts.
  {
    title: 'Gateway credentialNames holds at most 2 entries',
    doc: gwTls({ mode: 'SIMPLE', credentialNames: ['a', 'b', 'c'] }),
    errors: ['spec.servers[0].tls.credentialNames: Too many: 3: must have at most 2 items'],
  },
  {
    title: 'Gateway credentialNames holds at least 1 entry',
    doc: gwTls({ mode: 'SIMPLE', credentialNames: [] }),
    errors: [
      'spec.servers[0].tls.credentialNames: Invalid value: 0: spec.servers[0].tls.credentialNames in body should have at least 1 items',
    ],
  },
  {
    title: 'a workloadSelector label value is at most 63 characters',
    doc: dr({ host: 'reviews', workloadSelector: { matchLabels: { app: 'x'.repeat(64) } } }),
    errors: ['spec.workloadSelector.matchLabels.app: Too long: may not be more than 63 bytes'],
  },
  {
    title: 'an EnvoyFilter targetRef kind must match its pattern',
    doc: {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: { name: 'f' },
      spec: { targetRefs: [{ kind: '1Gateway', name: 'gw' }] },
    },
    errors: [
      'spec.targetRefs[0].kind: Invalid value: "1Gateway": spec.targetRefs[0].kind in body should match \'^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$\'',
    ],
  },
  // CEL: durations.
  {
    title: 'a timeout without a unit cannot be converted to a duration',
    doc: vsRoute(dest, { timeout: '10' }),
    errors: [
      `spec.http[0].timeout: Invalid value: "string": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: must be a valid duration greater than 1ms`,
    ],
  },
  {
    title: 'a timeout in days (1d) cannot be converted to a duration',
    doc: vsRoute(dest, { timeout: '1d' }),
    errors: [
      `spec.http[0].timeout: Invalid value: "string": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: must be a valid duration greater than 1ms`,
    ],
  },
  {
    title: 'a timeout of 0s is below 1ms',
    doc: vsRoute(dest, { timeout: '0s' }),
    errors: [
      'spec.http[0].timeout: Invalid value: "string": must be a valid duration greater than 1ms',
    ],
  },
  {
    title: 'a retry perTryTimeout of 999us is below 1ms',
    doc: vsRoute(dest, { retries: { attempts: 3, perTryTimeout: '999us' } }),
    errors: [
      'spec.http[0].retries.perTryTimeout: Invalid value: "string": must be a valid duration greater than 1ms',
    ],
  },
  {
    title: 'a negative warmup duration is below 1ms',
    doc: dr({ host: 'reviews', trafficPolicy: { loadBalancer: { warmup: { duration: '-5s' } } } }),
    errors: [
      'spec.trafficPolicy.loadBalancer.warmup.duration: Invalid value: "string": must be a valid duration greater than 1ms',
    ],
  },
  // CEL: label selectors.
  {
    title: 'a workloadSelector label key may not contain a wildcard',
    doc: dr({ host: 'reviews', workloadSelector: { matchLabels: { 'app*': 'reviews' } } }),
    errors: [
      'spec.workloadSelector.matchLabels: Invalid value: "object": wildcard not allowed in label key match',
    ],
  },
  {
    title: 'a workloadSelector label key may not be empty',
    doc: dr({ host: 'reviews', workloadSelector: { matchLabels: { '': 'reviews' } } }),
    errors: ['spec.workloadSelector.matchLabels: Invalid value: "object": key must not be empty'],
  },
  {
    title: 'a workloadSelector label value may not contain a wildcard',
    doc: dr({ host: 'reviews', workloadSelector: { matchLabels: { app: 'rev*' } } }),
    errors: [
      'spec.workloadSelector.matchLabels.app: Invalid value: "string": wildcard not allowed in label value match',
    ],
  },
  // CEL: Gateway server TLS.
  {
    title: 'Gateway TLS may not set both credentialName and credentialNames',
    doc: gwTls({ mode: 'SIMPLE', credentialName: 'a', credentialNames: ['b'] }),
    errors: [
      'spec.servers[0].tls: Invalid value: "object": only one of credentialName or credentialNames can be set',
    ],
  },
  {
    title:
      'Gateway TLS with credentialNames and tlsCertificates breaks two rules that test the same pair',
    doc: gwTls({
      mode: 'SIMPLE',
      credentialNames: ['a'],
      tlsCertificates: [{ serverCertificate: '/c.pem', privateKey: '/k.pem' }],
    }),
    errors: [
      'spec.servers[0].tls: Invalid value: "object": only one of credentialNames or tlsCertificates can be set',
      'spec.servers[0].tls: Invalid value: "object": only one of credentialName or tlsCertificates can be set',
    ],
  },
  // CEL and list types: ServiceEntry.
  {
    title: 'ServiceEntry hosts may not be a bare wildcard',
    doc: se({ hosts: ['*'], resolution: 'DNS' }),
    errors: ['spec.hosts[0]: Invalid value: "string": hostname cannot be wildcard'],
  },
  {
    title: 'ServiceEntry port 0 is outside 1-65535',
    doc: se({ hosts: ['a.example'], ports: [{ number: 0, name: 'http' }] }),
    errors: ['spec.ports[0].number: Invalid value: "integer": port must be between 1-65535'],
  },
  {
    title: 'ServiceEntry ports may not repeat a name (list-map key) or a number (CEL rule)',
    doc: se({
      hosts: ['a.example'],
      ports: [
        { number: 80, name: 'http' },
        { number: 80, name: 'http' },
      ],
    }),
    errors: [
      'spec.ports[1]: Duplicate value: {"name":"http"}',
      'spec.ports: Invalid value: "array": port number cannot be duplicated',
    ],
  },
  {
    title: 'ServiceEntry with the default NONE resolution may not list endpoints',
    doc: se({ hosts: ['a.example'], endpoints: [{ address: '10.0.0.1' }] }),
    errors: ['spec: Invalid value: "object": NONE mode cannot set endpoints'],
  },
  {
    title: 'ServiceEntry CIDR addresses need NONE or STATIC resolution',
    doc: se({ hosts: ['a.example'], addresses: ['10.0.0.0/8'], resolution: 'DNS' }),
    errors: [
      'spec: Invalid value: "object": CIDR addresses are allowed only for NONE/STATIC resolution types',
    ],
  },
  {
    title: 'ServiceEntry DNS_ROUND_ROBIN resolution takes at most one endpoint',
    doc: se({
      hosts: ['a.example'],
      resolution: 'DNS_ROUND_ROBIN',
      endpoints: [{ address: 'a.example' }, { address: 'b.example' }],
    }),
    errors: ['spec: Invalid value: "object": DNS_ROUND_ROBIN mode cannot have multiple endpoints'],
  },
  {
    title: 'ServiceEntry may not set both workloadSelector and endpoints',
    doc: se({
      hosts: ['a.example'],
      resolution: 'STATIC',
      workloadSelector: { labels: { app: 'a' } },
      endpoints: [{ address: '10.0.0.1' }],
    }),
    errors: ['spec: Invalid value: "object": only one of WorkloadSelector or Endpoints can be set'],
  },
  {
    title:
      'ServiceEntry endpoint needs an address or a network; a bare unix:// fails to evaluate and is a dir',
    doc: se({
      hosts: ['a.example'],
      resolution: 'STATIC',
      endpoints: [{ ports: { http: 8080 } }, { address: 'unix://' }],
    }),
    errors: [
      'spec.endpoints[0]: Invalid value: "object": Address is required',
      'spec.endpoints[1].address: Invalid value: "string": index out of range: 8 evaluating rule: UDS must be an absolute path or abstract socket',
      'spec.endpoints[1].address: Invalid value: "string": UDS may not be a dir',
    ],
  },
  {
    title:
      'ServiceEntry unix socket endpoints take no ports, and endpoint port names must be DNS labels',
    doc: se({
      hosts: ['a.example'],
      resolution: 'STATIC',
      endpoints: [
        { address: 'unix:///var/run/a.sock', ports: { http: 80 } },
        { address: '10.0.0.1', ports: { http_alt: 8080 } },
      ],
    }),
    errors: [
      'spec.endpoints[0]: Invalid value: "object": UDS may not include ports',
      'spec.endpoints[1].ports: Invalid value: "object": port name must be valid',
    ],
  },
  {
    title: 'ServiceEntry workloadSelector label values may not contain a wildcard',
    doc: se({
      hosts: ['a.example'],
      resolution: 'STATIC',
      workloadSelector: { labels: { app: '*' } },
    }),
    errors: [
      'spec.workloadSelector.labels.app: Invalid value: "string": wildcard is not supported in selector',
    ],
  },
  // Metadata and identity.
  {
    title: 'metadata.name must be a DNS subdomain',
    doc: { ...vs({ hosts: ['reviews'] }), metadata: { name: 'Reviews_V1' } },
    errors: [
      `metadata.name: Invalid value: "Reviews_V1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ],
  },
  {
    title: 'metadata without a name needs a generateName',
    doc: { ...vs({ hosts: ['reviews'] }), metadata: { namespace: 'default' } },
    errors: ['metadata.name: Required value: name or generateName is required'],
  },
  {
    title: 'an unknown metadata field is reported',
    doc: { ...vs({ hosts: ['reviews'] }), metadata: { name: 'reviews', label: { a: 'b' } } },
    errors: ['metadata.label: unknown field'],
  },
  {
    title: 'metadata label values must be strings',
    doc: { ...vs({ hosts: ['reviews'] }), metadata: { name: 'reviews', labels: { version: 2 } } },
    errors: [
      'metadata.labels.version: Invalid value: "integer": metadata.labels.version in body must be of type string: "integer"',
    ],
  },
  {
    title: 'metadata label keys must be qualified names',
    doc: { ...vs({ hosts: ['reviews'] }), metadata: { name: 'reviews', labels: { '-bad': 'x' } } },
    errors: [
      `metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ],
  },
  {
    title: 'an apiVersion the CRD does not serve is unsupported',
    doc: { ...vs({ hosts: ['reviews'] }), apiVersion: 'networking.istio.io/v2' },
    errors: [
      'apiVersion: Unsupported value: "networking.istio.io/v2": supported values: "networking.istio.io/v1", "networking.istio.io/v1alpha3", "networking.istio.io/v1beta1"',
    ],
  },
  {
    title: 'a kind with no CRD in the file has no schema',
    doc: { ...vs({ hosts: ['reviews'] }), kind: 'HTTPRoute' },
    errors: [
      'kind: Invalid value: "HTTPRoute": no matches for kind "HTTPRoute" in version "networking.istio.io/v1"',
    ],
  },
  {
    title: 'a document without apiVersion and kind cannot be checked',
    doc: { metadata: { name: 'reviews' }, spec: {} },
    errors: ['apiVersion: Required value', 'kind: Required value'],
  },
];

const accepted: readonly Case[] = [
  {
    title: 'a negative weight passes: the CRD sets no minimum on route weights',
    doc: vsRoute({ ...dest, weight: -1 }),
    errors: [],
  },
  {
    title:
      "credentialName with tlsCertificates passes: Istio's rule for that message tests credentialNames",
    doc: gwTls({
      mode: 'SIMPLE',
      credentialName: 'a',
      tlsCertificates: [{ serverCertificate: '/c.pem', privateKey: '/k.pem' }],
    }),
    errors: [],
  },
  {
    title: 'a null timeout is pruned as the API server does, so it passes',
    doc: vsRoute(dest, { timeout: null }),
    errors: [],
  },
  {
    title: 'a nullable field (corsPolicy.allowCredentials) may be null',
    doc: vsRoute(dest, { corsPolicy: { allowCredentials: null } }),
    errors: [],
  },
  {
    title: 'durations 1ms, 1.5s, 1h30m, +5s, .5s, 1000us and 1000µs are at least 1ms',
    doc: vs({
      hosts: ['reviews'],
      http: ['1ms', '1.5s', '1h30m', '+5s', '.5s', '1000us', '1000\u00b5s'].map((timeout) => ({
        route: [dest],
        timeout,
      })),
    }),
    errors: [],
  },
  {
    title: 'a StringMatch with only prefix satisfies its oneOf, and so does an empty one',
    doc: vsRoute(dest, { match: [{ uri: { prefix: '/api' } }, { uri: {} }] }),
    errors: [],
  },
  {
    title:
      'status may carry fields the schema does not list (x-kubernetes-preserve-unknown-fields)',
    doc: vs({ hosts: ['reviews'] }, { status: { anything: { goes: [1, 'two'] } } }),
    errors: [],
  },
  {
    title: 'status observedGeneration may be an integer or a string, and times are RFC 3339',
    doc: vs(
      { hosts: ['reviews'] },
      {
        status: {
          observedGeneration: '3',
          conditions: [
            { observedGeneration: 3, lastTransitionTime: '2024-02-29T23:59:59.5+01:00' },
          ],
        },
      },
    ),
    errors: [],
  },
  {
    title: 'the v1alpha3 and v1beta1 apiVersions are served too',
    doc: [
      { ...vsRoute(dest), apiVersion: 'networking.istio.io/v1alpha3' },
      { ...vsRoute(dest), apiVersion: 'networking.istio.io/v1beta1' },
    ],
    errors: [],
  },
  {
    title: 'metadata may carry namespace, labels, annotations and a creationTimestamp',
    doc: {
      ...vs({ hosts: ['reviews'] }),
      metadata: {
        name: 'reviews.v1',
        namespace: 'bookinfo',
        labels: { 'app.kubernetes.io/name': 'reviews', version: '' },
        annotations: { 'lanes.dev/trust-client-lane': 'true' },
        creationTimestamp: '2024-01-01T00:00:00Z',
      },
    },
    errors: [],
  },
  {
    title: 'a base64 directResponse body passes format byte',
    doc: vs({
      hosts: ['reviews'],
      http: [{ directResponse: { status: 200, body: { bytes: 'aGk=' } } }],
    }),
    errors: [],
  },
  {
    title: 'ServiceEntry unix socket endpoints with an absolute path or abstract name pass',
    doc: se({
      hosts: ['a.example'],
      resolution: 'STATIC',
      endpoints: [{ address: 'unix:///var/run/a.sock' }, { address: 'unix://@abstract' }],
    }),
    errors: [],
  },
];

describe('hand-written documents the CRD schemas reject', () => {
  for (const c of rejected) {
    it(c.title, () => {
      assert.deepEqual(check(c.doc), c.errors);
    });
  }
});

describe('hand-written documents the CRD schemas accept', () => {
  for (const c of accepted) {
    it(c.title, () => {
      const docs = Array.isArray(c.doc) ? c.doc : [c.doc];
      for (const doc of docs) assert.deepEqual(check(doc), c.errors);
    });
  }
});

describe('Go duration parsing (what CEL duration() accepts)', () => {
  const table: readonly [string, bigint | undefined][] = [
    ['300s', 300_000_000_000n],
    ['1h30m', 5_400_000_000_000n],
    ['1.5s', 1_500_000_000n],
    ['-1.5h', -5_400_000_000_000n],
    ['.5ms', 500_000n],
    ['5.s', 5_000_000_000n],
    ['1\u03bcs', 1_000n],
    ['0', 0n],
    ['9223372036854775807ns', 9_223_372_036_854_775_807n],
    ['-9223372036854775808ns', -9_223_372_036_854_775_808n],
    ['2562047h', 9_223_369_200_000_000_000n],
    ['', undefined],
    ['1', undefined],
    ['s', undefined],
    ['.s', undefined],
    ['1d', undefined],
    ['1e3s', undefined],
    ['1 s', undefined],
    ['9223372036854775808ns', undefined],
    ['2562048h', undefined],
  ];
  for (const [text, ns] of table) {
    it(`${JSON.stringify(text)} is ${ns === undefined ? 'not a duration' : `${ns} ns`}`, () => {
      assert.equal(parseGoDuration(text), ns);
    });
  }
});

describe('CEL rule coverage', () => {
  const kinds = ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry'] as const;
  for (const kind of kinds) {
    it(`implements every CEL rule of ${kind}`, () => {
      assert.ok(celRuleSites(schemas, kind).length > 0, `${kind} has CEL rules`);
      assert.deepEqual(unimplementedCelRules(schemas, kind), []);
    });
  }

  it('leaves 13 distinct CEL rules of 8 other kinds unimplemented, all listed here', (t) => {
    const all = [...new Set([...schemas.versions.values()].map((v) => v.kind))].sort();
    const missing: Record<string, string[]> = {};
    for (const kind of all) {
      const rules = [...new Set(unimplementedCelRules(schemas, kind).map((s) => s.rule))];
      if (rules.length > 0) missing[kind] = rules.sort();
    }
    for (const [kind, rules] of Object.entries(missing)) {
      for (const rule of rules) t.diagnostic(`not checked: ${kind}: ${rule.replaceAll('\n', ' ')}`);
    }
    const ns = 'self.size() == 0';
    const urlRule = (a: string, b: string): string =>
      `isURL(self) ? (url(self).getScheme() in ["", "http", "https", "${a}", "${b}"]) : (isURL("http://" + self) &&\nurl("http://" + self).getScheme() in ["", "http", "https", "${a}", "${b}"])`;
    const valueFrom = '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)';
    assert.deepEqual(missing, {
      AuthorizationPolicy: [
        '(has(self.serviceAccounts) || has(self.notServiceAccounts)) ? (!has(self.principals) &&\n!has(self.notPrincipals) && !has(self.namespaces) && !has(self.notNamespaces)) : true',
        ns,
      ],
      EnvoyFilter: [
        'has(self.context) ? ((self.context == "WAYPOINT") ? has(self.waypoint) : !has(self.waypoint)) : !has(self.waypoint)',
        ns,
      ],
      PeerAuthentication: [
        'has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? self.selector.matchLabels : {}).size() > 0) : true',
        'self.all(key, 0 < int(key) && int(key) <= 65535)',
      ],
      RequestAuthentication: [ns, 'url(self).getScheme() in ["http", "https"]'],
      Telemetry: [
        '((has(self.operation) ? self.operation : "") == "REMOVE") ? !has(self.value) : true',
        '((has(self.operation) ? self.operation : "") == "UPSERT") ? (self.value != "") : true',
        ns,
      ],
      TrafficExtension: [valueFrom, 'has(self.wasm) != has(self.lua)', urlRule('file', 'oci'), ns],
      WasmPlugin: [valueFrom, urlRule('oci', 'file'), ns],
      WorkloadGroup: ['self in ["", "HTTP", "HTTPS"]'],
    });
    const distinct = new Set(Object.values(missing).flat());
    assert.equal(distinct.size, 13);
    assert.equal(Object.keys(missing).length, 8);
  });
});

describe('loading', () => {
  it('parses the CRD file once: a second load returns the cached schemas', () => {
    assert.equal(loadCrdSchemas(), schemas);
  });

  it('indexes 33 served versions, VirtualService among them as v1, v1alpha3 and v1beta1', () => {
    assert.equal(schemas.versions.size, 33);
    const vsVersions = [...schemas.versions.values()].filter((v) => v.kind === 'VirtualService');
    assert.deepEqual(vsVersions.map((v) => v.version).sort(), ['v1', 'v1alpha3', 'v1beta1']);
  });

  const crd = (schema: string): string => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: example.com
  names: { kind: Thing }
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: ${schema}
`;
  const strict: readonly [string, string, RegExp][] = [
    ['an unknown keyword', '{ type: object, default: {} }', /unsupported schema keyword default/],
    ['an unknown format', '{ type: string, format: uuid }', /unsupported format "uuid"/],
    [
      'a CEL messageExpression',
      "{ type: string, x-kubernetes-validations: [{ rule: 'self != \"\"', messageExpression: 'self' }] }",
      /unsupported x-kubernetes-validations entry/,
    ],
  ];
  for (const [what, schema, error] of strict) {
    it(`refuses a schema with ${what} rather than skip it`, () => {
      assert.throws(() => parseCrdSchemas(crd(schema), 'inline'), error);
    });
  }
});
