import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapGet, valueFromNode } from '../source/node.ts';
import { parseYamlDocuments } from './parse.ts';

describe('parseYamlDocuments', () => {
  it('keeps 1-based line and column of every node', () => {
    const { documents, issues } = parseYamlDocuments('a: 1\nb:\n  c: [x, y]\n', 'f.yaml');
    assert.deepEqual(issues, []);
    const root = documents[0]!.node;
    assert.deepEqual(root.pos, { line: 1, col: 1 });
    const c = mapGet(mapGet(root, 'b'), 'c');
    assert.deepEqual(c?.pos, { line: 3, col: 6 });
    assert.equal(c?.kind, 'seq');
  });

  it('splits multi-document streams and skips empty documents', () => {
    const { documents } = parseYamlDocuments(
      '---\na: 1\n---\n# only a comment\n---\nb: 2\n---\n',
      'f.yaml',
    );
    assert.deepEqual(
      documents.map((d) => [d.index, valueFromNode(d.node)]),
      [
        [0, { a: 1 }],
        [2, { b: 2 }],
      ],
    );
  });

  it('resolves anchors, aliases and merge keys', () => {
    const { documents, issues } = parseYamlDocuments(
      'base: &b {x: 1}\nuse: *b\nmerged: {<<: *b, y: 2}\n',
      'f.yaml',
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(valueFromNode(documents[0]!.node), {
      base: { x: 1 },
      use: { x: 1 },
      merged: { x: 1, y: 2 },
    });
  });

  // [what, text, message, whether the next document still parses, line:col reported]
  const malformed: [string, string, RegExp, boolean, string][] = [
    ['a duplicate key', 'a: 1\na: 2\n', /Map keys must be unique/, true, '2:1'],
    // The sequence is found unterminated where the next line starts.
    ['an unterminated flow sequence', 'a: [1, 2\n', /malformed YAML/, true, '2:1'],
    ['bad indentation', 'a:\n  b: 1\n c: 2\n', /malformed YAML/, true, '3:1'],
    ['a tab used for indentation', 'a:\n\tb: 1\n', /malformed YAML/, true, '2:1'],
    // An unclosed quote swallows the rest of the stream, separators included: its end is line 4.
    ['an unclosed quote', 'a: "x\n', /malformed YAML/, false, '4:1'],
  ];
  for (const [what, text, message, recovers, at] of malformed) {
    it(`reports ${what} with its position`, () => {
      const { documents, issues } = parseYamlDocuments(`${text}---\nok: 1\n`, 'bad.yaml');
      assert.ok(issues.length > 0, 'an issue is reported');
      assert.match(issues[0]!.message, message);
      assert.equal(issues[0]!.file, 'bad.yaml');
      assert.ok(issues[0]!.line >= 1 && issues[0]!.col >= 1);
      assert.equal(`${issues[0]!.line}:${issues[0]!.col}`, at);
      if (recovers) assert.deepEqual(valueFromNode(documents.at(-1)!.node), { ok: 1 });
    });
  }

  it('treats an empty stream as no documents and no issues', () => {
    assert.deepEqual(parseYamlDocuments('', 'e.yaml'), { documents: [], issues: [] });
  });
});
