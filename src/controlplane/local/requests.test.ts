import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestError } from './request-error.ts';
import { applyRequest, deleteRequest, explainRequest, overrideSignRequest } from './requests.ts';

const REJECTED: readonly {
  title: string;
  parse: (v: unknown) => unknown;
  body: unknown;
  message: RegExp;
}[] = [
  {
    title: 'an apply body that is not an object',
    parse: applyRequest,
    body: [],
    message: /the apply request must be a JSON object/,
  },
  {
    title: 'an override sign request without pairs',
    parse: overrideSignRequest,
    body: { ttl: '1h' },
    message: /the override sign request needs pairs/,
  },
  {
    title: 'an override sign request with a ttl that is not a string',
    parse: overrideSignRequest,
    body: { pairs: 'a=b', ttl: 3600 },
    message: /the override sign request\.ttl must be a string/,
  },
  {
    title: 'an explain override that is not a string',
    parse: explainRequest,
    body: { gateway: 'a/b', override: ['a=b'] },
    message: /the explain request\.override must be a string/,
  },
  {
    title: 'an apply without sources',
    parse: applyRequest,
    body: {},
    message: /sources must be an array/,
  },
  {
    title: 'a source without text',
    parse: applyRequest,
    body: { sources: [{ file: 'a.yaml' }] },
    message: /sources\[0\] needs a string file and a string text/,
  },
  {
    title: 'a cluster that is not a string',
    parse: applyRequest,
    body: { cluster: 3, sources: [] },
    message: /cluster must be a string/,
  },
  {
    title: 'a source dir that is not a string',
    parse: applyRequest,
    body: { sources: [{ file: 'a', text: '', dir: 1 }] },
    message: /sources\[0\]\.dir must be a string/,
  },
  {
    title: 'a delete with neither sources nor targets',
    parse: deleteRequest,
    body: {},
    message: /needs sources or targets/,
  },
  {
    title: 'a delete target without names',
    parse: deleteRequest,
    body: { targets: [{ kind: 'Deployment' }] },
    message: /targets\[0\] needs a string kind and names/,
  },
  {
    title: 'a delete whose force is not a boolean',
    parse: deleteRequest,
    body: { targets: [{ kind: 'Release', names: ['r'] }], force: 'yes' },
    message: /force in the delete request must be true or false/,
  },
  {
    title: 'explain headers that are not strings',
    parse: explainRequest,
    body: { headers: { a: 1 } },
    message: /headers must map names to strings/,
  },
  {
    title: 'an explain port that is not an integer',
    parse: explainRequest,
    body: { port: '80' },
    message: /port must be an integer/,
  },
];

describe('control API request bodies', () => {
  for (const c of REJECTED) {
    test(`${c.title} is a 400 naming the field`, () => {
      assert.throws(
        () => c.parse(c.body),
        (error: unknown) =>
          error instanceof RequestError && error.status === 400 && c.message.test(error.message),
      );
    });
  }

  test('well-formed bodies pass through with only the known fields', () => {
    assert.deepEqual(
      applyRequest({ cluster: 'dev', sources: [{ file: 'a', text: 'x', dir: '/d', extra: 1 }] }),
      {
        cluster: 'dev',
        sources: [{ file: 'a', text: 'x', dir: '/d' }],
      },
    );
    assert.deepEqual(deleteRequest({ targets: [{ kind: 'Lane', names: ['v1'] }] }), {
      targets: [{ kind: 'Lane', names: ['v1'] }],
    });
    assert.deepEqual(deleteRequest({ targets: [{ kind: 'Release', names: ['r'] }], force: true }), {
      targets: [{ kind: 'Release', names: ['r'] }],
      force: true,
    });
    assert.deepEqual(
      explainRequest({ gateway: 'ns/gw', port: 80, headers: { a: 'b' }, other: true }),
      {
        gateway: 'ns/gw',
        port: 80,
        headers: { a: 'b' },
      },
    );
  });
});
