/**
 * What a user sees when something is wrong, through the real CLI against a real daemon: one
 * line (or one line per issue) that says what and where, the documented exit code, and nothing
 * changed. Each case states the command, the exit code and what stderr must say.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lanes, teardown } from './support/cli.ts';

const VALID_SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  ports:
  - port: 8000
    name: http
  selector:
    app: shop
`;

interface Case {
  readonly title: string;
  readonly files?: Readonly<Record<string, string>>;
  readonly args: readonly string[];
  readonly code: 0 | 1 | 2;
  readonly stderr: readonly RegExp[];
}

const CASES: readonly Case[] = [
  {
    title:
      'one valid and one invalid document: exit 1, the error at file:line:col, nothing applied',
    files: {
      'two.yaml': `${VALID_SERVICE}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: broken\nspec:\n  portz:\n  - port: 8000\n`,
    },
    args: ['apply', '-f', 'two.yaml'],
    code: 1,
    stderr: [
      /^two\.yaml:17:3: Service default\/broken: spec\.portz: unknown field "portz": did you mean "ports"\?$/m,
      /^lanes: .*nothing was applied$/m,
    ],
  },
  {
    title: 'an unknown kind in a file: exit 1, file:line:col and the closest kind',
    files: { 'kind.yaml': 'apiVersion: v1\nkind: Servce\nmetadata:\n  name: x\n' },
    args: ['apply', '-f', 'kind.yaml'],
    code: 1,
    stderr: [/^kind\.yaml:2:7: .*unknown kind "Servce".*did you mean "Service"/m],
  },
  {
    title: 'malformed YAML: exit 1 with the position of the syntax error',
    files: { 'bad.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n' },
    args: ['apply', '-f', 'bad.yaml'],
    code: 1,
    stderr: [/^bad\.yaml:\d+:\d+: /m],
  },
  {
    title: 'an image that cannot run locally: exit 1, and how to run it',
    files: {
      'image.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n',
    },
    args: ['apply', '-f', 'image.yaml'],
    code: 1,
    stderr: [
      /^image\.yaml:\d+:\d+: Deployment default\/web: .*image "nginx:1\.27" cannot run locally.*add command:/m,
    ],
  },
  {
    title: 'an unknown kind on the command line: exit 2 with the closest kind',
    args: ['get', 'deploymnets'],
    code: 2,
    stderr: [/^lanes: .*"deploymnets".*did you mean "deployment"/m],
  },
  {
    title: 'deleting what does not exist: exit 1, nothing deleted',
    args: ['delete', 'deployment', 'ghost'],
    code: 1,
    stderr: [/Deployment default\/ghost: not found/, /^lanes: .*nothing was deleted$/m],
  },
  {
    title: 'apply without -f: exit 2',
    args: ['apply'],
    code: 2,
    stderr: [/^lanes: lanes apply needs -f PATH/m],
  },
  {
    title: 'a second foreground `lanes up` on a running state directory: exit 1',
    args: ['up'],
    code: 1,
    stderr: [
      /^lanes: a lanes daemon \(pid \d+\) is already running for .*; stop it with `lanes down`/m,
    ],
  },
];

describe('bad input through the CLI against a running daemon', { timeout: 120_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'lanes-cli-errors-'));
  const state = join(work, 'state');
  const cli = (args: readonly string[]) => lanes(args, { cwd: work, state });

  before(async () => {
    const up = await cli(['up', '--detach']);
    assert.equal(up.code, 0, up.stderr);
  });
  after(async () => {
    await teardown(state, work);
    rmSync(work, { recursive: true, force: true });
  });

  for (const c of CASES) {
    test(c.title, async () => {
      for (const [name, text] of Object.entries(c.files ?? {}))
        writeFileSync(join(work, name), text);
      const result = await cli(c.args);
      assert.equal(
        result.code,
        c.code,
        `lanes ${c.args.join(' ')} → ${result.code}\n${result.stderr}`,
      );
      for (const re of c.stderr) assert.match(result.stderr, re);
      // Nothing was applied by any of them.
      const all = await cli(['get', 'all', '-o', 'json']);
      assert.deepEqual(JSON.parse(all.stdout), { items: [] });
    });
  }

  test('the control API answers 401 to a request without the token or with a wrong one', async () => {
    const { api } = JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as { api: string };
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${'0'.repeat(64)}`]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          new URL('/v1/status', api),
          { headers: authorization ? { authorization } : {}, agent: false },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 401, `authorization ${authorization ?? '(none)'}`);
    }
  });

  test('a state directory whose token is not the daemon’s: exit 1, the token file named', async () => {
    const other = join(work, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'daemon.json'), readFileSync(join(state, 'daemon.json')));
    writeFileSync(join(other, 'token'), `${'f'.repeat(64)}\n`, { mode: 0o600 });
    const result = await lanes(['status'], { cwd: work, state: other });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^lanes: the daemon refused the token in .*other\/token/m);
  });

  test('the token file is readable only by its owner', () => {
    assert.equal(readdirSync(state).includes('token'), true);
    const mode = spawnSync('stat', ['-c', '%a', join(state, 'token')], {
      encoding: 'utf8',
    }).stdout.trim();
    assert.equal(mode, '600');
  });
});

describe('state directories lanes refuses', { timeout: 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'lanes-state-errors-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  test('a stale daemon.json (its process is gone): exit 1, start it again with lanes up', async () => {
    const state = join(work, 'stale');
    mkdirSync(state);
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(
      join(state, 'daemon.json'),
      JSON.stringify({ pid: gone, api: 'http://127.0.0.1:9', startedAt: '2026-01-01T00:00:00Z' }),
    );
    writeFileSync(join(state, 'token'), 'x\n', { mode: 0o600 });
    const result = await lanes(['status'], { cwd: work, state });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `^lanes: the daemon recorded in .*daemon\\.json \\(pid ${gone}\\) is not running; start it again with \`lanes up\`$`,
        'm',
      ),
    );
  });

  test('a directory that is not a lanes state directory: exit 1, and nothing is written into it', async () => {
    const foreign = join(work, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine\n');
    const result = await lanes(['up', '--detach'], { cwd: work, state: foreign });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /is not a lanes state directory \(it has files but no lanes-state\.json\); lanes will not write into it/,
    );
    assert.deepEqual(readdirSync(foreign), ['notes.txt']);
  });

  test('a corrupt resources.json: exit 1, the file named, and left as it was', async () => {
    const state = join(work, 'corrupt');
    mkdirSync(state);
    writeFileSync(join(state, 'lanes-state.json'), '{"format":"lanes-state/1"}\n');
    writeFileSync(join(state, 'resources.json'), '{"format":"lanes-resources/1","documents":[');
    const result = await lanes(['up', '--detach'], { cwd: work, state });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /resources\.json is corrupt .*lanes will not reset it/);
    assert.equal(
      readFileSync(join(state, 'resources.json'), 'utf8'),
      '{"format":"lanes-resources/1","documents":[',
    );
  });

  test('a state directory written by another format: exit 1, both formats named', async () => {
    const state = join(work, 'future');
    mkdirSync(state);
    writeFileSync(join(state, 'lanes-state.json'), '{"format":"lanes-state/9"}\n');
    const result = await lanes(['up', '--detach'], { cwd: work, state });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /format "lanes-state\/9", this lanes reads lanes-state\/1/);
  });
});
