import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGoDurationNs } from '../../schema/duration.ts';
import { parseHeaderValue } from './header-value.ts';
import {
  goFloat,
  hostsOverlap,
  validateFqdn,
  validateGatewayServerHost,
  validateWildcardDomain,
} from './istio-names.ts';

describe('Go durations (time.ParseDuration)', () => {
  const cases: [string, bigint | undefined][] = [
    ['0', 0n],
    ['1.001s', 1_001_000_000n],
    ['1m30s', 90_000_000_000n],
    ['1h', 3_600_000_000_000n],
    ['250ms', 250_000_000n],
    ['500us', 500_000n],
    ['1.5µs', 1_500n],
    ['.5s', 500_000_000n],
    ['-2s', -2_000_000_000n],
    ['', undefined],
    ['10', undefined],
    ['1d', undefined],
    ['s', undefined],
    ['1s ', undefined],
  ];
  for (const [text, ns] of cases) {
    test(`${JSON.stringify(text)} is ${ns === undefined ? 'not a duration' : `${ns} ns`}`, () => {
      assert.equal(parseGoDurationNs(text), ns);
    });
  }
});

describe('header values (Envoy header_parser, as Istio validates them)', () => {
  test('a literal value has no variables', () => {
    assert.deepEqual(parseHeaderValue('v2'), { variables: [] });
  });
  test('%% is an escaped percent, not a variable', () => {
    assert.deepEqual(parseHeaderValue('100%%'), { variables: [] });
  });
  test('%VAR% and %VAR(args)% are variables', () => {
    assert.deepEqual(parseHeaderValue('a %HOSTNAME% b %REQ(x-a)%').variables, [
      '%HOSTNAME%',
      '%REQ(x-a)%',
    ]);
  });
  test('a lone % at the end is an error', () => {
    assert.equal(
      parseHeaderValue('abc%').error,
      'header value configuration: invalid header configuration. Un-escaped %',
    );
  });
  test('a tab is allowed, a newline is not', () => {
    assert.equal(parseHeaderValue('a\tb').error, undefined);
    assert.equal(parseHeaderValue('a\nb').error, 'header value configuration a\nb is invalid');
  });
});

describe('Istio host rules', () => {
  test('a wildcard is allowed in the first label only', () => {
    assert.equal(validateWildcardDomain('*.example.com'), undefined);
    assert.equal(validateWildcardDomain('*'), undefined);
    assert.equal(
      validateWildcardDomain('a.*.com'),
      'domain name "*.com" invalid (label "*" invalid)',
    );
  });
  test('an all-numeric top-level domain is rejected (so are IP addresses)', () => {
    assert.equal(
      validateFqdn('10.0.0.1'),
      'domain name "10.0.0.1" invalid (top level domain "1" cannot be all-numeric)',
    );
  });
  test('upper case is allowed, as in Istio', () => {
    assert.equal(validateWildcardDomain('Reviews.Default'), undefined);
  });
  test('a trailing dot is allowed', () => {
    assert.equal(validateFqdn('istio.io.'), undefined);
  });
  test('* overlaps every host; *.foo.com overlaps *.com and a.foo.com', () => {
    assert.ok(hostsOverlap('*', 'a.b'));
    assert.ok(hostsOverlap('*.foo.com', '*.com'));
    assert.ok(hostsOverlap('a.foo.com', '*.foo.com'));
    assert.ok(!hostsOverlap('foo.com', '*.foo.com'));
    assert.ok(!hostsOverlap('a.com', 'b.com'));
  });
  test('gateway server hosts allow ns/ and IP addresses', () => {
    assert.deepEqual(validateGatewayServerHost('prod/*.example.com'), []);
    assert.deepEqual(validateGatewayServerHost('./a.example.com'), []);
    assert.deepEqual(validateGatewayServerHost('*/*'), []);
    assert.deepEqual(validateGatewayServerHost('10.1.2.3'), []);
  });
});

describe('Go %v for floats', () => {
  test('small and large numbers use a two-digit exponent, others are plain', () => {
    assert.equal(goFloat(150), '150');
    assert.equal(goFloat(0.5), '0.5');
    assert.equal(goFloat(0.00001), '1e-05');
    assert.equal(goFloat(-1e-7), '-1e-07');
    assert.equal(goFloat(1e21), '1e+21');
  });
});
