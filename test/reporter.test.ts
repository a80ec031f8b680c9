/**
 * `npm test`'s reporter on a small suite of its own, run by a real `node --test`: the skipped
 * tests counted by reason, each failure with its name and assertion before any stack, and the
 * totals on the last line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPORTER = fileURLToPath(new URL('./support/reporter.ts', import.meta.url));

const SUITE = `import assert from 'node:assert/strict';
import { test } from 'node:test';
test('one plus one is two', () => assert.equal(1 + 1, 2));
test('needs a program that is missing', (t) => t.skip('frobnicate is not installed'));
test('needs it too', (t) => t.skip('frobnicate is not installed'));
test('needs the sample data', { skip: 'the sample data is absent' }, () => {});
test('two plus two is five', () => assert.equal(2 + 2, 5));
`;

/** Without the runner's NODE_TEST_CONTEXT, which would make the child report to this run instead. */
function childEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  return { ...env, NO_COLOR: '1' };
}

function run(dir: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--test', `--test-reporter=${REPORTER}`, 'suite.test.ts'],
      { cwd: dir, env: childEnv(), timeout: 60_000 },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

describe('the npm test reporter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-reporter-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'suite.test.ts'), SUITE);

  test('counts skips by reason, leads each failure with its name and assertion, and ends with the totals', async () => {
    const { code, stdout } = await run(dir);
    assert.equal(code, 1, stdout);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines.at(-1)!, /^tests 5 · passed 1 · failed 1 · skipped 3 · \d+s$/);
    assert.match(
      stdout,
      /skipped, by reason:\n {5}2 × frobnicate is not installed \(suite\.test\.ts:4, …\)\n {5}1 × the sample data is absent \(suite\.test\.ts:6\)\n/,
    );
    const failure = stdout.slice(stdout.indexOf('1 failed:'));
    assert.match(
      failure,
      /^1 failed:\n\n✖ two plus two is five\n {2}suite\.test\.ts:7\n {4}Expected values to be strictly equal:/,
    );
  });
});
