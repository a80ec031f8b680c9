import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pathWith, writeToolShims } from './tool-shims.ts';

const CLI = fileURLToPath(new URL('../../../tools/cli/main.ts', import.meta.url));
const work = mkdtempSync(join(tmpdir(), "lanes shims 'quoted' "));
after(() => rmSync(work, { recursive: true, force: true }));

describe('the node and lanes first on an instance PATH', () => {
  const bin = join(work, 'bin');
  writeToolShims(bin, { node: process.execPath, cli: CLI });
  // A PATH whose own node, if any, is the system's: the shims must win over it.
  const env = { PATH: pathWith(bin, '/usr/bin:/bin') };

  test('node is the daemon’s Node', () => {
    assert.equal(readlinkSync(join(bin, 'node')), process.execPath);
    const r = spawnSync('node', ['-p', 'process.version'], { env, encoding: 'utf8' });
    assert.equal(r.stdout.trim(), process.version);
  });

  test('lanes is the daemon’s CLI, even from a directory whose path needs quoting', () => {
    const r = spawnSync('lanes', ['--version'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^lanes \d+\.\d+\.\d+/);
  });

  test('command: [lanes, mock] serves as the asm-mock image does, configured by its env', async () => {
    const mock = spawn('lanes', ['mock'], {
      env: { ...env, app: 'mockz', version: 'v9', PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let out = '';
        mock.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        mock.once('exit', (code) => reject(new Error(`lanes mock exited ${code}: ${out}`)));
      });
      const answer = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      assert.match(answer, /^-> mockz\(version: v9, ip: /);
    } finally {
      mock.kill('SIGTERM');
    }
  });

  test('writing the shims again replaces them; without a CLI there is no lanes', () => {
    writeToolShims(bin, { node: process.execPath, cli: undefined });
    const r = spawnSync('lanes', ['--version'], { env, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    writeToolShims(bin, { node: process.execPath, cli: CLI });
    assert.equal(spawnSync('lanes', ['--version'], { env }).status, 0);
  });

  test('PATH gets the directory first; an empty PATH is just the directory', () => {
    assert.equal(pathWith('/s/bin', '/usr/bin'), '/s/bin:/usr/bin');
    assert.equal(pathWith('/s/bin', undefined), '/s/bin');
    assert.equal(pathWith('/s/bin', ''), '/s/bin');
  });
});
