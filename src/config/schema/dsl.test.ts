import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../source/issues.ts';
import { parseYamlDocuments } from '../yaml/parse.ts';
import {
  bool,
  INVALID,
  ignored,
  int,
  list,
  obj,
  oneOf,
  ParseContext,
  record,
  required,
  type Schema,
  str,
  unsupported,
} from './dsl.ts';

function run<T>(schema: Schema<T>, yaml: string) {
  const doc = parseYamlDocuments(yaml, 'f.yaml').documents[0]!;
  const ctx = new ParseContext('f.yaml', 'Thing x');
  const value = schema.parse(doc.node, 'spec', ctx);
  return {
    value,
    issues: ctx.issues.map(formatIssue),
    severities: ctx.issues.map((i) => i.severity),
  };
}

const thing = obj({
  hosts: required(list(str({ minLength: 1 }), { min: 1 })),
  port: int({ min: 1, max: 65535 }),
  mode: oneOf(['strict', 'permissive']),
  enabled: bool(),
  labels: record(str()),
  legacy: ignored('lanes does not need it'),
  mirror: unsupported('mirroring is not implemented; remove the field'),
});

describe('schema DSL', () => {
  it('parses a valid object into typed values', () => {
    const { value, issues } = run(
      thing,
      'hosts: [a]\nport: 80\nmode: strict\nenabled: true\nlabels: {x: "1"}\n',
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(value, {
      hosts: ['a'],
      port: 80,
      mode: 'strict',
      enabled: true,
      labels: { x: '1' },
    });
  });

  const errors: [string, string, string][] = [
    [
      'an unknown field with a did-you-mean',
      'hosts: [a]\nhots: [b]\n',
      'f.yaml:2:1: Thing x: spec.hots: unknown field "hots": did you mean "hosts"?',
    ],
    ['a missing required field', 'port: 80\n', 'f.yaml:1:1: Thing x: spec.hosts: Required value'],
    [
      'a number where a string is expected, with a hint',
      'hosts: [8000]\n',
      'f.yaml:1:9: Thing x: spec.hosts[0]: Invalid value: 8000: must be a string (quote it: "8000")',
    ],
    [
      'an out-of-range integer',
      'hosts: [a]\nport: 70000\n',
      'f.yaml:2:7: Thing x: spec.port: Invalid value: 70000: must be between 1 and 65535',
    ],
    [
      'an enum typo with a suggestion',
      'hosts: [a]\nmode: strikt\n',
      'f.yaml:2:7: Thing x: spec.mode: Unsupported value: "strikt" (did you mean "strict"?): supported values: "strict", "permissive"',
    ],
    [
      'a string where a boolean is expected',
      'hosts: [a]\nenabled: "yes"\n',
      'f.yaml:2:10: Thing x: spec.enabled: Invalid value: "yes": must be true or false',
    ],
    [
      'an empty list that needs an item',
      'hosts: []\n',
      'f.yaml:1:8: Thing x: spec.hosts: Required value: must have at least one item',
    ],
    [
      'a real field that is not supported yet',
      'hosts: [a]\nmirror: {host: b}\n',
      'f.yaml:2:1: Thing x: spec.mirror: not supported by lanes yet: mirroring is not implemented; remove the field',
    ],
  ];
  for (const [what, yaml, message] of errors) {
    it(`reports ${what}`, () => {
      const { value, issues } = run(thing, yaml);
      assert.equal(value, INVALID);
      assert.deepEqual(issues, [message]);
    });
  }

  it('accepts an ignored field and reports it with severity ignored', () => {
    const { value, issues, severities } = run(thing, 'hosts: [a]\nlegacy: {anything: 1}\n');
    assert.deepEqual(value, { hosts: ['a'] });
    assert.deepEqual(severities, ['ignored']);
    assert.match(issues[0]!, /spec\.legacy: ignored: lanes does not need it/);
  });

  it('treats a key without a value as absent, as Kubernetes does', () => {
    const { value } = run(thing, 'hosts: [a]\nport:\n');
    assert.deepEqual(value, { hosts: ['a'] });
  });

  it('reports every problem of a document, not only the first', () => {
    const { issues } = run(thing, 'hosts: [1, 2]\nport: 0\nmdoe: strict\n');
    assert.equal(issues.length, 4);
  });

  it('enforces exactly-one-of and at-most-one-of groups', () => {
    const m = obj({ exact: str(), prefix: str() }, { exactlyOneOf: ['exact', 'prefix'] });
    assert.match(
      run(m, 'exact: a\nprefix: b\n').issues[0]!,
      /only one of "exact", "prefix" may be set, found "exact" and "prefix"/,
    );
    assert.match(run(m, '{}\n').issues[0]!, /exactly one of "exact", "prefix" must be set/);
  });

  it('quotes map keys that are not identifiers in paths', () => {
    const { issues } = run(
      obj({ labels: record(int()) }),
      'labels: {"app.kubernetes.io/name": x}\n',
    );
    assert.match(
      issues[0]!,
      /spec\.labels\["app\.kubernetes\.io\/name"\]: Invalid value: "x": must be an integer/,
    );
  });
});
