import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDtab } from './dtab.ts';
import { pairsText } from './override.ts';

describe('Linkerd dtab subset', () => {
  const accepted: readonly [string, string][] = [
    ['/svc/mockb => /lane/dev-bob', 'default/mockb=dev-bob'],
    ['/svc/mockb=>/lane/dev-bob;/svc/mockc=>/lane/v2;', 'default/mockb=dev-bob,default/mockc=v2'],
    ['/svc/mockb.shop.svc.cluster.local => /lane/v2', 'shop/mockb=v2'],
    // Linkerd: later entries have higher precedence.
    ['/svc/mockb => /lane/v1; /svc/mockb => /lane/v2', 'default/mockb=v2'],
  ];
  for (const [dtab, pairs] of accepted) {
    test(`${JSON.stringify(dtab)} means ${pairs}`, () => {
      const r = parseDtab(dtab);
      assert.ok(r.ok, r.ok ? '' : r.error);
      assert.equal(pairsText(r.pairs), pairs);
    });
  }

  const unsupported: readonly [string, RegExp][] = [
    ['/svc/mockb => /srv/mockb-v2', /is not \/lane\/LANE/],
    ['/svc/mockb => /svc/mockb-v2', /sends one service to another/],
    ['/svc/mockb => /$/inet/127.0.0.1/8080', /names an address.*never targets a host/],
    ['/svc/mockb => /$/nil', /special namers/],
    ['/svc/mockb => /#/io.l5d.k8s/default/http/mockb', /namers .* are not supported/],
    ['/svc/mockb => 0.9 * /lane/a & 0.1 * /lane/b', /weights and unions/],
    ['/svc/mockb => /lane/a | /lane/b', /alternates/],
    ['/svc/mockb => ~', /special tree ~/],
    ['/svc/mockb => !', /special tree !/],
    ['/svc/* => /lane/v2', /wildcard prefixes/],
    ['/svc => /lane/v2', /only \/svc\/NAME with one segment/],
    ['/svc/mockb/v2 => /lane/v2', /only \/svc\/NAME with one segment/],
    ['/http/1.1/GET/mockb => /lane/v2', /only \/svc\/NAME/],
    ['/svc/mockb:8000 => /lane/v2', /has a port, which is not supported/],
    ['/svc/www.example.com => /lane/v2', /is not a service name/],
    ['/svc/mockb => /lane/V2', /is not a lane name/],
    ['/svc/mockb /lane/v2', /is not PREFIX => DESTINATION/],
    [' ; ', /has no entry/],
  ];
  for (const [dtab, error] of unsupported) {
    test(`${JSON.stringify(dtab)} is refused, saying what is not supported`, () => {
      const r = parseDtab(dtab);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, error);
      assert.match(r.ok ? '' : r.error, /^l5d-dtab: /);
    });
  }
});
