import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { lastOutputLine } from './readiness.ts';

const dir = mkdtempSync(join(tmpdir(), 'lanes-readiness-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function log(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('lastOutputLine', () => {
  const rows: readonly [string, string, string | undefined][] = [
    [
      'the app’s last line, not the supervisor’s',
      '--- lanes: started pid 1 ---\nconnecting\nError: boom\n--- lanes: exited with code 1 ---\n',
      'Error: boom',
    ],
    ['a last line without a newline', 'one\ntwo', 'two'],
    ['nothing but the supervisor: no output yet', '--- lanes: started pid 1 ---\n\n', undefined],
    ['an empty log', '', undefined],
    ['a long line, shortened', `${'x'.repeat(500)}\n`, `${'x'.repeat(199)}…`],
  ];
  for (const [name, text, expected] of rows) {
    it(name, () =>
      assert.equal(
        lastOutputLine(log(`${rows.findIndex((r) => r[0] === name)}.log`, text)),
        expected,
      ),
    );
  }

  it('reads only the end of a big log', () => {
    const path = log('big.log', `${'filler line\n'.repeat(100_000)}the end\n`);
    assert.equal(lastOutputLine(path), 'the end');
  });

  it('says nothing for a log that does not exist', () => {
    assert.equal(lastOutputLine(join(dir, 'missing.log')), undefined);
  });
});
