import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  parseDaemonInfo,
  readDaemonInfo,
  readToken,
  resolveStateDir,
  StateDirError,
} from './state-dir.ts';
import { deadPid, stateDirFor } from './test-fixtures.ts';

describe('resolveStateDir', () => {
  const cwd = '/home/dev/shop';
  test('--state wins over $LANES_HOME, relative to cwd', () => {
    assert.equal(resolveStateDir('st', { LANES_HOME: '/elsewhere' }, cwd), '/home/dev/shop/st');
    assert.equal(resolveStateDir('/abs/st', {}, cwd), '/abs/st');
  });
  test('$LANES_HOME next, relative to cwd', () => {
    assert.equal(resolveStateDir(undefined, { LANES_HOME: '/var/lanes' }, cwd), '/var/lanes');
    assert.equal(resolveStateDir(undefined, { LANES_HOME: 'rel' }, cwd), '/home/dev/shop/rel');
  });
  test('./.lanes last; empty values count as unset', () => {
    assert.equal(resolveStateDir(undefined, {}, cwd), '/home/dev/shop/.lanes');
    assert.equal(resolveStateDir('', { LANES_HOME: '' }, cwd), '/home/dev/shop/.lanes');
  });
});

describe('readDaemonInfo', () => {
  test('absent: no daemon.json, or no directory at all', () => {
    const s = stateDirFor(undefined);
    try {
      assert.deepEqual(readDaemonInfo(s.dir), { status: 'absent' });
      assert.deepEqual(readDaemonInfo(join(s.dir, 'missing')), { status: 'absent' });
    } finally {
      s.cleanup();
    }
  });
  test('running: the recorded pid is alive', () => {
    const s = stateDirFor('http://127.0.0.1:1234');
    try {
      assert.deepEqual(readDaemonInfo(s.dir), {
        status: 'running',
        info: {
          pid: process.pid,
          api: 'http://127.0.0.1:1234',
          startedAt: '2026-01-02T03:04:05.000Z',
        },
      });
    } finally {
      s.cleanup();
    }
  });
  test('stale: the recorded pid is gone', () => {
    const pid = deadPid();
    const s = stateDirFor('http://127.0.0.1:1234', { pid });
    try {
      const state = readDaemonInfo(s.dir);
      assert.equal(state.status, 'stale');
      assert.equal(state.status === 'stale' && state.info.pid, pid);
    } finally {
      s.cleanup();
    }
  });
  test('a malformed daemon.json is an error that says which file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-cli-'));
    try {
      writeFileSync(
        join(dir, 'daemon.json'),
        '{"pid": 0, "api": "http://127.0.0.1:1", "startedAt": ""}',
      );
      assert.throws(
        () => readDaemonInfo(dir),
        (e: Error) =>
          e instanceof StateDirError &&
          e.message ===
            `${dir}/daemon.json is not valid (pid must be a positive integer); if no daemon is running, remove it and run \`lanes up\``,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
  test('parseDaemonInfo checks every field', () => {
    assert.equal(parseDaemonInfo('nope'), 'not JSON');
    assert.equal(parseDaemonInfo('[]'), 'not a JSON object');
    assert.equal(parseDaemonInfo('{"pid":-1}'), 'pid must be a positive integer');
    assert.equal(parseDaemonInfo('{"pid":1.5}'), 'pid must be a positive integer');
    assert.equal(
      parseDaemonInfo('{"pid":1,"api":"https://x:1"}'),
      'api must be an http://host:port URL',
    );
    assert.equal(
      parseDaemonInfo('{"pid":1,"api":"http://127.0.0.1:9"}'),
      'startedAt must be a string',
    );
  });
});

describe('readToken', () => {
  test('trims the newline; missing and empty are errors', () => {
    const s = stateDirFor(undefined, { token: 'abc' });
    try {
      assert.equal(readToken(s.dir), 'abc');
      writeFileSync(join(s.dir, 'token'), '\n');
      assert.throws(() => readToken(s.dir), /the daemon's token .*token is empty/);
      rmSync(join(s.dir, 'token'));
      assert.throws(
        () => readToken(s.dir),
        /cannot read the daemon's token .*: no such file or directory/,
      );
    } finally {
      s.cleanup();
    }
  });
});
