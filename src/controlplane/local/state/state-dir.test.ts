import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, type Stats, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deadPid, stateDirFor } from '../../../tools/cli/test-fixtures.ts';
import {
  parseDaemonInfo,
  readDaemonInfo,
  readToken,
  resolveStateDir,
  StateDirError,
  untrustedDir,
} from './state-dir.ts';

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
  test('a daemon.json whose API is not on this machine is refused naming the file: the token would go there', () => {
    const s = stateDirFor('http://10.0.0.1:1234');
    try {
      assert.throws(
        () => readDaemonInfo(s.dir),
        (e: Error) =>
          e instanceof StateDirError &&
          e.message ===
            `${s.dir}/daemon.json is not valid (api must be on this machine (127.0.0.1, [::1] or localhost), not 10.0.0.1); if no daemon is running, remove it and run \`lanes up\``,
      );
    } finally {
      s.cleanup();
    }
  });
  test('a state directory others may write is refused before its daemon.json is believed', () => {
    const s = stateDirFor('http://127.0.0.1:1234');
    try {
      chmodSync(s.dir, 0o777);
      assert.throws(
        () => readDaemonInfo(s.dir),
        (e: Error) =>
          e instanceof StateDirError &&
          e.message.startsWith(
            `the state directory ${s.dir} is writable by its group and others (mode 777)`,
          ) &&
          e.message.endsWith(`run chmod go-w ${s.dir}`),
      );
      chmodSync(s.dir, 0o700);
      assert.equal(readDaemonInfo(s.dir).status, 'running');
    } finally {
      s.cleanup();
    }
  });
  test('parseDaemonInfo accepts only loopback API hosts', () => {
    for (const host of ['127.0.0.1', '[::1]', 'localhost', 'LOCALHOST']) {
      const info = parseDaemonInfo(
        JSON.stringify({ pid: 1, api: `http://${host}:9`, startedAt: '' }),
      );
      assert.equal(typeof info, 'object', `${host}: ${String(info)}`);
    }
    for (const [api, host] of [
      ['http://10.0.0.1:1234', '10.0.0.1'],
      ['http://example.com:80/', 'example.com'],
      ['http://127.0.0.1@evil.example:1', 'evil.example'],
      ['http://localhost.evil.example:1', 'localhost.evil.example'],
    ]) {
      assert.equal(
        parseDaemonInfo(JSON.stringify({ pid: 1, api, startedAt: '' })),
        `api must be on this machine (127.0.0.1, [::1] or localhost), not ${host}`,
      );
    }
    assert.equal(
      parseDaemonInfo('{"pid":1,"api":"http://a b:1","startedAt":""}'),
      'api must be an http://host:port URL',
    );
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

describe('untrustedDir', () => {
  const uid = process.getuid?.() ?? 0;
  const stat = (owner: number, mode: number) => ({ uid: owner, mode: 0o40000 | mode }) as Stats;
  test('a directory of the current user that only it can write is trusted', () => {
    for (const mode of [0o700, 0o755, 0o750, 0o500]) {
      assert.equal(untrustedDir('/st', stat(uid, mode)), undefined, mode.toString(8));
    }
  });
  test('another owner is refused, naming the directory, both uids and what to do', () => {
    assert.equal(
      untrustedDir('/st', stat(uid + 1, 0o700)),
      `the state directory /st belongs to uid ${uid + 1}, not to you (uid ${uid}), so its owner could redirect lanes and take its API token; use a directory of your own (--state or $LANES_HOME)`,
    );
  });
  test('group or other write permission is refused with the chmod to run', () => {
    const says = (mode: number) => untrustedDir('/st', stat(uid, mode));
    assert.match(says(0o770) ?? '', /writable by its group \(mode 770\).* run chmod go-w \/st$/);
    assert.match(says(0o702) ?? '', /writable by others \(mode 702\)/);
    assert.match(says(0o777) ?? '', /writable by its group and others \(mode 777\)/);
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
