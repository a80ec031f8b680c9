import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { INSTANCE_LOG_MAX_BYTES, openLog } from './supervisor-os.ts';

let root: string;
let counter = 0;
/** A fresh log path in a fresh directory (neither created). */
const freshLog = (): string => join(root, `case-${++counter}`, 'logs', 'default.default.a.0.log');

before(() => {
  root = mkdtempSync(join(tmpdir(), 'lanes-supervisor-os-test-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Opens the log as a (re)start does, writes `text` through the fd and closes it. */
function run(path: string, text: string, maxBytes: number): void {
  const fd = openLog(path, maxBytes);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

describe('openLog', () => {
  test('the cap is the access log’s: 64 MiB', () => {
    assert.equal(INSTANCE_LOG_MAX_BYTES, 64 * 1024 * 1024);
  });

  test('creates the directory and the file, then appends on every start below the cap', () => {
    const path = freshLog();
    run(path, 'one\n', 100);
    run(path, 'two\n', 100);
    assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n');
    assert.ok(!existsSync(`${path}.1`));
  });

  test('a log at the cap is moved to .1 (replacing the old .1) when the instance starts again', () => {
    const path = freshLog();
    run(path, 'first run\n', 10);
    assert.equal(readFileSync(path, 'utf8'), 'first run\n');
    run(path, 'second run\n', 10);
    assert.equal(readFileSync(`${path}.1`, 'utf8'), 'first run\n');
    assert.equal(readFileSync(path, 'utf8'), 'second run\n');
    run(path, 'third\n', 10);
    assert.equal(readFileSync(`${path}.1`, 'utf8'), 'second run\n');
    assert.equal(readFileSync(path, 'utf8'), 'third\n');
  });

  test('one run is never cut: its fd keeps writing past the cap, into .1 once rotated', () => {
    const path = freshLog();
    const old = openLog(path, 10);
    try {
      writeSync(old, 'a long first run\n');
      const next = openLog(path, 10);
      closeSync(next);
      writeSync(old, 'its last words\n');
    } finally {
      closeSync(old);
    }
    assert.equal(readFileSync(`${path}.1`, 'utf8'), 'a long first run\nits last words\n');
    assert.equal(readFileSync(path, 'utf8'), '');
  });

  test('only the instance’s own log is rotated', () => {
    const path = freshLog();
    run(path, 'x'.repeat(20), 10);
    const other = join(path, '..', 'default.default.a.1.log');
    writeFileSync(other, 'y'.repeat(20));
    run(path, 'new\n', 10);
    assert.deepEqual(readdirSync(join(path, '..')).sort(), [
      'default.default.a.0.log',
      'default.default.a.0.log.1',
      'default.default.a.1.log',
    ]);
  });
});
