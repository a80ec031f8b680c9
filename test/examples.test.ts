/**
 * Every example in examples/ is what its README says it is: each directory loads with no error
 * (and no note: an example shows nothing lanes would ignore), and compiled together its resources
 * resolve every reference. The story's own steps, which break a reference on purpose at step 9,
 * are run end to end elsewhere (test/story-e2e.test.ts, the conformance suite); here every file of
 * it must at least load.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { loadResources } from '../src/config/load/resources.ts';
import { resourceLabel } from '../src/config/resource/resource.ts';
import { formatIssue } from '../src/config/source/issues.ts';
import { compile } from '../src/core/compiler/compile.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const dirs = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

function load(dir: string) {
  const files = readdirSync(join(EXAMPLES, dir)).filter((f) => f.endsWith('.yaml'));
  return loadResources(
    files.map((f) => ({ file: f, text: readFileSync(join(EXAMPLES, dir, f), 'utf8') })),
  );
}

describe('the examples', () => {
  test('there are the five the README lists', () => {
    assert.deepEqual(dirs, ['grpc', 'mse-param-rule', 'native', 'release', 'story']);
  });

  for (const dir of dirs.filter((d) => d !== 'story')) {
    test(`examples/${dir} loads with no error and no note`, () => {
      const loaded = load(dir);
      assert.deepEqual(loaded.issues.map(formatIssue), []);
      assert.ok(loaded.resources.length > 0);
    });
  }

  // The story's files are steps: later ones redefine what earlier ones applied.
  test('every file of examples/story loads on its own with no error and no note', () => {
    const files = readdirSync(join(EXAMPLES, 'story')).filter((f) => f.endsWith('.yaml'));
    assert.equal(files.length, 18);
    for (const f of files) {
      const text = readFileSync(join(EXAMPLES, 'story', f), 'utf8');
      assert.deepEqual(loadResources([{ file: f, text }]).issues.map(formatIssue), [], f);
    }
  });

  // examples/grpc/README.md: "swimlanes.yaml holds the story's swimlane-v1.yaml and
  // swimlane-v2.yaml unchanged" — the lane resources do not change with the protocol.
  test("examples/grpc's lane group and lanes are the story's, document for document", () => {
    const docs = (...files: string[]) =>
      files.flatMap((f) =>
        parseAllDocuments(readFileSync(join(EXAMPLES, f), 'utf8')).map((d) => d.toJS()),
      );
    assert.deepEqual(
      docs('grpc/swimlanes.yaml'),
      docs('story/swimlane-v1.yaml', 'story/swimlane-v2.yaml'),
    );
  });

  for (const dir of ['native', 'mse-param-rule', 'grpc']) {
    test(`examples/${dir}, applied whole, resolves every reference`, () => {
      const { statuses } = compile(load(dir).resources, []);
      const problems = statuses.flatMap((s) =>
        s.conditions
          .filter((c) => c.status !== 'True')
          .map((c) => `${resourceLabel(s.id)} ${c.type}=${c.status} ${c.reason}`),
      );
      assert.ok(statuses.length > 0);
      assert.deepEqual(problems, []);
    });
  }
});
