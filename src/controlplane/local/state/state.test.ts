import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StateDir, StateError, type StoredDocument, writeDurably } from './state.ts';

let root: string;
let counter = 0;
/** A fresh path under the test's temporary root (not created). */
const fresh = (): string => join(root, `case-${++counter}`);
/** A fresh, opened state directory. */
const opened = (): StateDir => StateDir.open(fresh());

before(() => {
  root = mkdtempSync(join(tmpdir(), 'lanes-state-test-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

function refuses(fn: () => unknown, ...parts: string[]): StateError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof StateError, `expected a StateError, got ${String(caught)}`);
  for (const part of parts) assert.ok(caught.message.includes(part), caught.message);
  return caught;
}

describe('StateDir.open', () => {
  test('a missing directory is created (mode 0700, parents too) with the marker and logs/', () => {
    const dir = join(fresh(), 'nested', 'state');
    const state = StateDir.open(dir);
    assert.equal(state.dir, dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const marker = JSON.parse(readFileSync(join(dir, 'lanes-state.json'), 'utf8'));
    assert.equal(marker.format, 'lanes-state/1');
    assert.ok(!Number.isNaN(Date.parse(marker.createdAt)), marker.createdAt);
    assert.ok(statSync(state.logsDir).isDirectory());
    assert.deepEqual(readdirSync(dir).sort(), ['lanes-state.json', 'logs']);
  });

  test('an existing empty directory is accepted and gets the marker', () => {
    const dir = fresh();
    mkdirSync(dir);
    StateDir.open(dir);
    assert.ok(existsSync(join(dir, 'lanes-state.json')));
  });

  test('a relative path is resolved against the working directory', () => {
    const dir = fresh();
    const state = StateDir.open(relative(process.cwd(), dir));
    assert.equal(state.dir, dir);
  });

  test('an existing state directory opens again and keeps its marker', () => {
    const dir = fresh();
    StateDir.open(dir);
    const before = readFileSync(join(dir, 'lanes-state.json'), 'utf8');
    StateDir.open(dir);
    assert.equal(readFileSync(join(dir, 'lanes-state.json'), 'utf8'), before);
  });

  const foreign: { title: string; files: string[] }[] = [
    { title: 'a file', files: ['notes.txt'] },
    { title: 'a hidden file', files: ['.git'] },
    { title: 'only a logs/ entry', files: ['logs'] },
  ];
  for (const c of foreign) {
    test(`a directory holding ${c.title} but no marker is refused and left untouched`, () => {
      const dir = fresh();
      mkdirSync(dir);
      for (const f of c.files) writeFileSync(join(dir, f), 'mine\n');
      refuses(
        () => StateDir.open(dir),
        dir,
        'is not a lanes state directory',
        'lanes-state.json',
        '--state',
      );
      assert.deepEqual(readdirSync(dir).sort(), [...c.files].sort());
    });
  }

  const damaged: { title: string; marker: string; says: string[] }[] = [
    { title: 'a marker that is not JSON', marker: '{"format": ', says: ['is corrupt'] },
    { title: 'an empty marker', marker: '', says: ['is corrupt'] },
    { title: 'a marker that is JSON null', marker: 'null', says: ['lanes-state/1'] },
    { title: 'a marker that is an array', marker: '[]', says: ['lanes-state/1'] },
    { title: 'a marker without a format', marker: '{}', says: ['lanes-state/1'] },
    {
      title: 'a marker of another format',
      marker: '{"format":"lanes-state/2"}',
      says: ['"lanes-state/2"', 'incompatible', 'lanes-state/1'],
    },
  ];
  for (const c of damaged) {
    test(`${c.title} is refused with a message naming the marker file, not reset`, () => {
      const dir = fresh();
      mkdirSync(dir);
      writeFileSync(join(dir, 'lanes-state.json'), c.marker);
      refuses(() => StateDir.open(dir), join(dir, 'lanes-state.json'), ...c.says);
      assert.equal(readFileSync(join(dir, 'lanes-state.json'), 'utf8'), c.marker);
      assert.deepEqual(readdirSync(dir), ['lanes-state.json']);
    });
  }

  for (const mode of [0o777, 0o770, 0o722, 0o702]) {
    test(`a state directory with mode ${mode.toString(8)} is refused: another user could swap daemon.json`, () => {
      const dir = fresh();
      StateDir.open(dir);
      chmodSync(dir, mode);
      refuses(() => StateDir.open(dir), dir, 'writable by', `chmod go-w ${dir}`);
      assert.equal(statSync(dir).mode & 0o777, mode, 'left as it was');
      chmodSync(dir, 0o755);
      StateDir.open(dir);
    });
  }

  test('an empty directory that others may write is made 0700 when it becomes a state directory', () => {
    const dir = fresh();
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    StateDir.open(dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'logs')).mode & 0o777, 0o700);
  });

  test('a foreign directory that others may write is refused as foreign, and its mode is kept', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    chmodSync(dir, 0o777);
    refuses(() => StateDir.open(dir), dir, 'is not a lanes state directory');
    assert.equal(statSync(dir).mode & 0o777, 0o777);
  });

  // Only root can give a directory away; untrustedDir's own tests cover the owner check anywhere.
  test('a state directory owned by another user is refused', {
    skip: process.getuid?.() !== 0 && 'needs root to chown',
  }, () => {
    const dir = fresh();
    StateDir.open(dir);
    chownSync(dir, 65534, 65534);
    refuses(() => StateDir.open(dir), dir, 'belongs to uid 65534', '--state');
    chownSync(dir, 0, 0);
  });

  test('a path that is a file is refused and the file is left as it was', () => {
    const file = fresh();
    writeFileSync(file, 'data\n');
    refuses(() => StateDir.open(file), file, 'is not a directory', '--state');
    assert.equal(readFileSync(file, 'utf8'), 'data\n');
  });

  test('a path below a file is refused with a StateError naming the path', () => {
    const file = fresh();
    writeFileSync(file, 'data\n');
    refuses(() => StateDir.open(join(file, 'state')), join(file, 'state'));
  });
});

describe('StateDir.overrideSecret', () => {
  test('is created on first use: 32 bytes, mode 0600, the same on every call', () => {
    const state = opened();
    const secret = state.overrideSecret();
    assert.equal(secret.length, 32);
    assert.equal(statSync(join(state.dir, 'override.key')).mode & 0o777, 0o600);
    assert.deepEqual(StateDir.open(state.dir).overrideSecret(), secret);
  });

  test('rotating replaces it', () => {
    const state = opened();
    const before = state.overrideSecret();
    state.rotateOverrideSecret();
    assert.notDeepEqual(state.overrideSecret(), before);
  });

  test('a key file readable by others, or not 64 hex digits, is refused with what to do', () => {
    const state = opened();
    state.overrideSecret();
    const path = join(state.dir, 'override.key');
    chmodSync(path, 0o644);
    refuses(() => state.overrideSecret(), path, 'readable by others', `chmod 600 ${path}`);
    writeFileSync(path, 'short\n', { mode: 0o600 });
    chmodSync(path, 0o600);
    refuses(() => state.overrideSecret(), path, 'not an override key', 'remove it');
  });
});

describe('StateDir.token', () => {
  test('is created on first use: 64 hex digits, mode 0600', () => {
    const state = opened();
    const token = state.token();
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(statSync(join(state.dir, 'token')).mode & 0o777, 0o600);
  });

  test('is the same on every call and after opening the directory again', () => {
    const state = opened();
    const token = state.token();
    assert.equal(state.token(), token);
    assert.equal(StateDir.open(state.dir).token(), token);
  });

  test('two state directories get different tokens', () => {
    assert.notEqual(opened().token(), opened().token());
  });

  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o666]) {
    test(`a token file with mode ${mode.toString(8)} is refused with the chmod advice`, () => {
      const state = opened();
      const token = state.token();
      const path = join(state.dir, 'token');
      chmodSync(path, mode);
      refuses(() => state.token(), path, 'readable by others', `chmod 600 ${path}`);
      chmodSync(path, 0o600);
      assert.equal(state.token(), token);
    });
  }

  for (const text of ['', '\n', '  \n']) {
    test(`a token file holding ${JSON.stringify(text)} is refused (an empty token would let anyone in)`, () => {
      const state = opened();
      const path = join(state.dir, 'token');
      writeFileSync(path, text, { mode: 0o600 });
      refuses(() => state.token(), path, 'empty');
      assert.equal(readFileSync(path, 'utf8'), text);
    });
  }
});

describe('StateDir resources', () => {
  const docs: StoredDocument[] = [
    { cluster: '', file: '/x/lanes.yaml', line: 1, text: 'kind: Lane\n' },
    { cluster: 'dev', file: '<stdin>', line: 42, text: 'kind: Deployment\nmetadata: {}\n' },
  ];

  test('a new state directory has no documents', () => {
    assert.deepEqual(opened().readDocuments(), []);
  });

  test('written documents read back the same, also after opening again', () => {
    const state = opened();
    state.writeDocuments(docs);
    assert.deepEqual(state.readDocuments(), docs);
    assert.deepEqual(StateDir.open(state.dir).readDocuments(), docs);
    state.writeDocuments([]);
    assert.deepEqual(state.readDocuments(), []);
  });

  const corrupt: { title: string; text: string; says: string }[] = [
    {
      title: 'text that is not JSON',
      text: '{"format":"lanes-resources/1","documents":[',
      says: 'is corrupt',
    },
    { title: 'an empty file', text: '', says: 'is corrupt' },
    { title: 'JSON null', text: 'null', says: 'not a lanes resource file' },
    { title: 'a JSON array', text: '[]', says: 'not a lanes resource file' },
    {
      title: 'another format',
      text: '{"format":"lanes-resources/9","documents":[]}',
      says: '"lanes-resources/9"',
    },
    {
      title: 'documents that are not a list',
      text: '{"format":"lanes-resources/1","documents":{}}',
      says: 'not a lanes resource file',
    },
    {
      title: 'a document without text',
      text: '{"format":"lanes-resources/1","documents":[{"cluster":"","file":"a.yaml","line":1}]}',
      says: 'document 1',
    },
    {
      title: 'a document whose line is not a positive integer',
      text: '{"format":"lanes-resources/1","documents":[{"cluster":"","file":"a.yaml","line":"3","text":"kind: Lane\\n"}]}',
      says: 'document 1',
    },
    {
      title: 'a document that is not an object',
      text: '{"format":"lanes-resources/1","documents":["kind: Lane"]}',
      says: 'document 1',
    },
  ];
  for (const c of corrupt) {
    test(`resources.json with ${c.title} is refused naming the file, and kept as it is`, () => {
      const state = opened();
      const path = join(state.dir, 'resources.json');
      writeFileSync(path, c.text);
      const error = refuses(() => state.readDocuments(), path, c.says);
      assert.ok(error.message.includes('will not reset'), error.message);
      assert.equal(readFileSync(path, 'utf8'), c.text);
    });
  }
});

describe('StateDir ports', () => {
  test('no ports.json means no remembered ports', () => {
    assert.deepEqual(opened().readPorts(), {});
  });

  test('written ports read back the same', () => {
    const state = opened();
    const ports = { 'istio-system/ingressgateway:80@default': 41231, 'a/b:8080@dev': 40000 };
    state.writePorts(ports);
    assert.deepEqual(state.readPorts(), ports);
  });

  // Ports are a convenience (stable gateway URLs): a damaged file only means new ports.
  const damaged: { title: string; text: string; ports: Record<string, number> }[] = [
    { title: 'text that is not JSON', text: '{"a":', ports: {} },
    { title: 'JSON null', text: 'null', ports: {} },
    { title: 'a JSON array', text: '[80, 81]', ports: {} },
    { title: 'a JSON string', text: '"80"', ports: {} },
    {
      title: 'some entries that are not ports',
      text: '{"ok":8080,"str":"80","neg":-1,"zero":0,"big":70000,"frac":80.5,"nul":null}',
      ports: { ok: 8080 },
    },
  ];
  for (const c of damaged) {
    test(`ports.json with ${c.title} reads as ${JSON.stringify(c.ports)}`, () => {
      const state = opened();
      writeFileSync(join(state.dir, 'ports.json'), c.text);
      assert.deepEqual(state.readPorts(), c.ports);
    });
  }
});

describe('writeDurably', () => {
  test('writes the content with the given mode and leaves no temporary file', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeDurably(join(dir, 'a'), 'one\n', 0o600);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'one\n');
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['a']);
  });

  test('replaces an existing file whole', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'a'), 'a much longer old content\n');
    writeDurably(join(dir, 'a'), 'new\n');
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'new\n');
    assert.deepEqual(readdirSync(dir), ['a']);
  });

  test('a failed rename leaves the target as it was and no temporary file behind', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'target'), { recursive: true });
    writeFileSync(join(dir, 'target', 'keep'), 'x');
    assert.throws(() => writeDurably(join(dir, 'target'), 'data'));
    assert.deepEqual(readdirSync(dir), ['target']);
    assert.deepEqual(readdirSync(join(dir, 'target')), ['keep']);
  });
});
