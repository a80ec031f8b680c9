import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { storyCopies } from '../../../../scripts/story.ts';
import { testDataPath } from '../../../../test/support/test-data.ts';
import { mapGet, valueFromNode } from '../../source/node.ts';
import { parseYamlDocuments } from '../../yaml/parse.ts';
import { parseResource } from '../document.ts';
import { errors, parseText, stripErr, testDataFile } from './test-support.ts';

describe('Istio CRD test data (test/data/istio)', () => {
  test('every document of destinationrule-valid.yaml is accepted', () => {
    const { text, file } = testDataFile('istio/destinationrule-valid.yaml');
    const parsed = parseText(text, file);
    assert.equal(parsed.length, 4);
    for (const p of parsed) assert.deepEqual(errors(p.issues), []);
  });

  test('the http2KeepAlive of destinationrule-valid.yaml is accepted as ignored', () => {
    const { text, file } = testDataFile('istio/destinationrule-valid.yaml');
    const last = parseText(text, file).at(-1);
    assert.deepEqual(
      last?.issues.map((i) => [i.severity, i.path]),
      [['ignored', 'spec.trafficPolicy.connectionPool.http.http2KeepAlive']],
    );
  });

  const invalid = testDataFile('istio/destinationrule-invalid.yaml');
  const invalidDocs = parseYamlDocuments(invalid.text, invalid.file).documents.map(stripErr);

  test('destinationrule-invalid.yaml has an _err annotation on every document', () => {
    assert.equal(invalidDocs.length, 3);
    for (const d of invalidDocs) assert.ok(d.err);
  });

  for (const { doc, err } of invalidDocs) {
    const [path, reason] = (err ?? '').split(': ');
    test(`destinationrule-invalid.yaml document ${doc.index} is rejected at ${path} with "${reason}…"`, () => {
      const { resource, issues } = parseResource(doc);
      assert.equal(resource, undefined);
      const match = errors(issues).find(
        (i) => i.path === path && i.message.startsWith(reason ?? '?'),
      );
      assert.ok(match, issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
    });
  }
});

describe('Istio bookinfo samples (test/data/istio/bookinfo)', () => {
  const dir = testDataPath('istio/bookinfo/');
  const routing = readdirSync(dir).filter((f) => f !== 'egress-rule-google-apis.yaml');

  test('the bookinfo directory holds the routing samples', () => {
    assert.ok(routing.length >= 20, `found ${routing.length}`);
  });

  for (const name of routing) {
    test(`every document of ${name} is accepted`, () => {
      const { text, file } = testDataFile(`istio/bookinfo/${name}`);
      const parsed = parseText(text, file);
      assert.ok(parsed.length > 0);
      for (const p of parsed) {
        assert.deepEqual(errors(p.issues), [], `${name}`);
        assert.ok(p.resource);
      }
    });
  }

  test('destination-rule-all-mtls.yaml notes tls ISTIO_MUTUAL as ignored on every rule', () => {
    const { text, file } = testDataFile('istio/bookinfo/destination-rule-all-mtls.yaml');
    const parsed = parseText(text, file);
    assert.equal(parsed.length, 4);
    for (const p of parsed) {
      assert.deepEqual(
        p.issues.map((i) => [i.severity, i.path, i.message]),
        [
          [
            'ignored',
            'spec.trafficPolicy.tls',
            'ignored: local-mode hops are plaintext on loopback; mesh mTLS is not implemented',
          ],
        ],
      );
      assert.deepEqual(p.resource?.notes.length, 1);
    }
  });

  test('fault-injection-details-v1.yaml gets Istio’s unreachable-rule warning for its second catch-all', () => {
    const { text, file } = testDataFile('istio/bookinfo/fault-injection-details-v1.yaml');
    const [vs] = parseText(text, file);
    assert.deepEqual(
      vs?.issues.map((i) => [i.severity, i.path, i.message]),
      [
        [
          'warning',
          'spec.http[1]',
          'virtualService rule #1 not used (only the last rule can have no matches)',
        ],
      ],
    );
  });

  describe('egress-rule-google-apis.yaml', () => {
    const { text, file } = testDataFile('istio/bookinfo/egress-rule-google-apis.yaml');
    const [serviceEntry, vs, dr] = parseText(text, file);

    test('its ServiceEntry is rejected as a kind lanes does not support yet', () => {
      assert.equal(serviceEntry?.resource, undefined);
      assert.deepEqual(
        serviceEntry?.issues.map((i) => [i.path, i.line, i.col]),
        [['kind', 2, 7]],
      );
      assert.match(
        serviceEntry?.issues[0]?.message ?? '',
        /^ServiceEntry \(networking\.istio\.io\/v1\) is not supported by lanes yet; /,
      );
    });

    test('its VirtualService (port 80 → 443) is accepted', () => {
      assert.deepEqual(vs?.issues, []);
      assert.ok(vs?.resource);
    });

    test('its DestinationRule is rejected only for TLS origination (tls.mode SIMPLE)', () => {
      assert.equal(dr?.resource, undefined);
      assert.deepEqual(
        dr?.issues.map((i) => [i.path, i.line, i.col, i.message]),
        [
          [
            'spec.trafficPolicy.portLevelSettings[0].tls.mode',
            46,
            15,
            'not supported by lanes yet: lanes does not originate TLS yet (tls.mode SIMPLE); only DISABLE and ISTIO_MUTUAL are accepted, and ignored',
          ],
        ],
      );
    });
  });
});

describe('the Istio documents of the story files', () => {
  const files = [
    'gateways.yaml',
    'ingress-vs.yaml',
    'ingress-vs-v2-20.yaml',
    'ingress-vs-v2-100.yaml',
    'ingress-vs-v3.yaml',
    'alice-dev.yaml',
    'bob-dev.yaml',
    'caros-dev.yaml',
  ];
  for (const copy of storyCopies()) {
    if ('skip' in copy) {
      test(`the Istio documents of ${copy.name} are accepted with no notes`, { skip: copy.skip });
      continue;
    }
    for (const file of files) {
      test(`the Istio documents of ${file} of ${copy.name} are accepted with no notes`, () => {
        const text = readFileSync(join(copy.dir, file), 'utf8');
        // Only the Istio documents: the other kinds in these files belong to other tests.
        const istio = parseYamlDocuments(text, file).documents.filter((d) =>
          String(valueFromNode(mapGet(d.node, 'apiVersion') ?? d.node)).startsWith(
            'networking.istio.io/',
          ),
        );
        assert.ok(istio.length > 0, 'the file has Istio documents');
        for (const d of istio) {
          const { resource, issues } = parseResource(d);
          assert.deepEqual(issues, []);
          assert.ok(resource);
        }
      });
    }
  }
});
