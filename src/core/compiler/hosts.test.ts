/** Host helpers: Host header → host name, wildcard matching, host tables. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HostTableBuilder,
  hostMatches,
  hostOnly,
  hostsIntersect,
  lookupHost,
  portOf,
} from './hosts.ts';
import type { VirtualHost } from './table.ts';

describe('hostOnly() strips the port, lower-cases and drops a trailing dot', () => {
  const cases: [string, string][] = [
    ['example.com', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['Example.COM', 'example.com'],
    ['EXAMPLE.com.:443', 'example.com'],
    ['example.com.', 'example.com'],
    ['mockb', 'mockb'],
    ['mockb:8000', 'mockb'],
    ['mockb.default.svc.cluster.local:8000', 'mockb.default.svc.cluster.local'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['[::1]:8080', '[::1]'],
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    ['', ''],
  ];
  for (const [authority, host] of cases) {
    test(`${JSON.stringify(authority)} → ${JSON.stringify(host)}`, () => {
      assert.equal(hostOnly(authority), host);
    });
  }
});

describe('portOf() reads the port of an authority', () => {
  const cases: [string, number | undefined][] = [
    ['example.com', undefined],
    ['example.com:8080', 8080],
    ['[::1]:9000', 9000],
    ['[::1]', undefined],
    ['[2001:db8::1]', undefined],
    ['example.com:', undefined],
  ];
  for (const [authority, port] of cases) {
    test(`${JSON.stringify(authority)} → ${port}`, () => assert.equal(portOf(authority), port));
  }
});

describe('hostMatches(pattern, host)', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'anything.example.com', true],
    ['*', 'localhost', true],
    ['example.com', 'example.com', true],
    ['example.com', 'www.example.com', false],
    ['*.example.com', 'dev.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', '.example.com', false],
    ['*.example.com', 'badexample.com', false],
    ['*.example.com', 'example.com.evil.org', false],
  ];
  for (const [pattern, host, want] of cases) {
    test(`${pattern} ${want ? 'matches' : 'does not match'} ${host}`, () => {
      assert.equal(hostMatches(pattern, host), want);
    });
  }
});

describe('hostsIntersect(a, b) is symmetric and true when some host matches both', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'example.com', true],
    ['*', '*.example.com', true],
    ['example.com', 'example.com', true],
    ['example.com', 'other.com', false],
    ['*.example.com', 'dev.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', '*.dev.example.com', true],
    ['*.example.com', '*.com', true],
    ['*.example.com', '*.example.org', false],
    ['*.a.com', '*.b.com', false],
  ];
  for (const [a, b, want] of cases) {
    test(`${a} and ${b}: ${want}`, () => {
      assert.equal(hostsIntersect(a, b), want);
      assert.equal(hostsIntersect(b, a), want);
    });
  }
});

describe('lookupHost(): exact, then the longest *.suffix, then *', () => {
  const vhost = (host: string): VirtualHost => ({
    host,
    routes: [],
    plan: [],
    visibleTo: undefined,
    source: { kind: 'VirtualService', namespace: 'default', name: host },
  });
  const builder = new HostTableBuilder();
  for (const h of ['*', '*.example.com', '*.dev.example.com', 'api.dev.example.com', 'example.com'])
    builder.set(h, vhost(h));
  const table = builder.build();

  test('wildcards are sorted longest suffix first', () => {
    assert.deepEqual(
      table.wildcards.map((w) => w.suffix),
      ['.dev.example.com', '.example.com'],
    );
  });

  const cases: [string, string][] = [
    ['api.dev.example.com', 'api.dev.example.com'],
    ['web.dev.example.com', '*.dev.example.com'],
    ['dev.example.com', '*.example.com'],
    ['example.com', 'example.com'],
    ['example.org', '*'],
    ['constructor', '*'],
    ['__proto__', '*'],
  ];
  for (const [host, want] of cases) {
    test(`${host} → ${want}`, () => assert.equal(lookupHost(table, host)?.host, want));
  }

  test('without a * entry an unmatched host finds nothing', () => {
    const b = new HostTableBuilder();
    b.set('*.example.com', vhost('*.example.com'));
    assert.equal(lookupHost(b.build(), 'example.com'), undefined);
    assert.equal(lookupHost(b.build(), 'toString'), undefined);
  });
});
