import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fqdn, parseServiceHost } from './service-ref.ts';

describe('parseServiceHost', () => {
  const cases: [string, string, string | undefined][] = [
    ['mockb', 'default', 'default/mockb'],
    ['mockb', 'team', 'team/mockb'],
    ['mockb.default', 'team', 'default/mockb'],
    ['mockb.default.svc', 'team', 'default/mockb'],
    ['mockb.default.svc.cluster.local', 'team', 'default/mockb'],
    ['MockB.Default.SVC.cluster.local', 'team', 'default/mockb'],
    ['team/mockb', 'default', 'team/mockb'],
    ['www.example.com', 'default', undefined],
    ['a.b.svc.other.local', 'default', undefined],
    ['a.b.c.d.e.f', 'default', undefined],
  ];
  for (const [host, ns, want] of cases) {
    it(`${host} from namespace ${ns} is ${want ?? 'not a service name'}`, () => {
      const ref = parseServiceHost(host, ns);
      assert.equal(ref ? `${ref.namespace}/${ref.name}` : undefined, want);
    });
  }

  it('writes the fully qualified name', () => {
    assert.equal(fqdn({ namespace: 'default', name: 'mocka' }), 'mocka.default.svc.cluster.local');
  });
});
