/**
 * What `lanes apply` tells a first user, through the real CLI against a real daemon: instances
 * that crash or never listen on $PORT are named with why (exit code, last output) within the
 * wait it announces, and the apply still succeeds; notes repeated for every Deployment of a file
 * are one line, every one with -v.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lanes, teardown } from './support/cli.ts';

const node = JSON.stringify(process.execPath);

function deployment(name: string, script: string, extra = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        command: [${node}, "-e", ${JSON.stringify(script)}]
${extra}`;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const dir = mkdtempSync(join(tmpdir(), 'lanes-cli-apply-'));
const state = join(dir, 'state');
const cli = (...args: string[]) => lanes(args, { cwd: dir, state });

before(async () => {
  const up = await cli('up', '--detach', '--quiet');
  assert.equal(up.code, 0, up.stderr);
});
after(async () => {
  await teardown(state, dir);
  rmSync(dir, { recursive: true, force: true });
});

describe('lanes apply', () => {
  test('names the instances that crash or never listen, with why, within the wait it prints, and exits 0', async () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      `${deployment('crasher', "console.error('Error: cannot read config.json'); process.exit(2)")}---\n${deployment('deaf', "console.log('listening on 8080'); setInterval(() => {}, 1000)")}`,
    );
    const started = Date.now();
    const r = await cli('apply', '-f', 'bad.yaml', '--wait', '3s');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 15_000);
    assert.match(r.stdout, /^deployment\.apps\/crasher created$/m);
    assert.match(
      r.stderr,
      /^waiting up to 3 s for default\/\w+ instance 0.* to accept connections \(--wait\)$/m,
    );
    assert.match(
      r.stderr,
      /^warning: default\/crasher instance 0 is not ready: exited with code 2 after \d+\.\d s and is restarted with backoff; last output: "Error: cannot read config\.json" \(lanes logs crasher\)$/m,
    );
    assert.match(
      r.stderr,
      /^warning: default\/deaf instance 0 is not ready: running \(pid \d+\) for \d+ s but not accepting connections on 127\.0\.0\.1:\d+ \(its \$PORT\); last output: "listening on 8080" \(lanes logs deaf\)$/m,
    );
  });

  test('an instance that becomes ready is waited for, with no warning', async () => {
    writeFileSync(
      join(dir, 'good.yaml'),
      deployment(
        'good',
        "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')",
      ),
    );
    const r = await cli('apply', '-f', 'good.yaml');
    assert.equal(r.code, 0, r.stderr);
    // Ready within the first second it says nothing; a loaded machine may need the announced wait.
    assert.doesNotMatch(r.stderr, /warning|note/);
    const status = await cli('status', '-o', 'json');
    const good = (
      JSON.parse(status.stdout) as { workloads: { name: string; ready: number }[] }
    ).workloads.find((w) => w.name === 'good');
    assert.equal(good?.ready, 1, 'ready when apply returned');
  });

  test('after an update, lanes logs shows the new instance from its start; the old one’s last lines are in .log.1', async () => {
    const server = (gen: string) =>
      `console.log('generation ${gen}'); require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')`;
    writeFileSync(join(dir, 'gen.yaml'), deployment('gen', server('A')));
    assert.equal((await cli('apply', '-f', 'gen.yaml')).code, 0);
    writeFileSync(join(dir, 'gen.yaml'), deployment('gen', server('B')));
    const updated = await cli('apply', '-f', 'gen.yaml');
    assert.equal(updated.code, 0, updated.stderr);
    // The old generation leaves once the new one is ready, after a short drain.
    const logFile = join(state, 'logs', 'default.default.gen.0.log');
    for (let i = 0; i < 100 && !readFileSafe(`${logFile}.1`).includes('stopped'); i++)
      await new Promise((r) => setTimeout(r, 100));
    const logs = await cli('logs', 'gen');
    assert.equal(logs.code, 0, logs.stderr);
    const lines = logs.stdout.trim().split('\n');
    assert.match(lines[0]!, /^--- lanes: started pid \d+ ---$/);
    assert.ok(lines.includes('generation B'));
    assert.ok(!logs.stdout.includes('generation A'), logs.stdout);
    assert.ok(
      !logs.stdout.includes('stopp'),
      `no stop line of the old generation:\n${logs.stdout}`,
    );
    const old = readFileSafe(`${logFile}.1`);
    assert.ok(old.indexOf('generation A') < old.indexOf('stopped'), old);
    // An instance the workload does not have: its instances are named, not every workload.
    const missing = await cli('logs', 'gen', '--instance', '5');
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /no instance of default\/gen #5; it has #0 \(default\): give --instance one of those/,
    );
  });

  test('a lane that selects no instance of its service is a warning at its selector; deleting a baseline’s last instance warns which requests now fail', async () => {
    const listen =
      "require('node:http').createServer((q, a) => a.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')";
    const web = (version: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web-${version} }
spec:
  selector: { matchLabels: { app: web, version: ${version} } }
  template:
    metadata: { labels: { app: web, version: ${version} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{ name: app, command: [${node}, "-e", ${JSON.stringify(listen)}] }]
---
`;
    writeFileSync(
      join(dir, 'web.yaml'),
      `apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 8000, name: http }] }
---
${web('base')}${web('dev-zed')}apiVersion: lanes.dev/v1alpha1
kind: LaneGroup
metadata: { name: web }
spec: { routeHeader: x-web-lane, baseline: base, services: [web] }
---
apiVersion: lanes.dev/v1alpha1
kind: Lane
metadata: { name: base }
spec: { group: web, selector: { version: base } }
`,
    );
    writeFileSync(
      join(dir, 'zed.yaml'),
      'apiVersion: lanes.dev/v1alpha1\nkind: Lane\nmetadata: { name: dev-zed }\nspec: { group: web, selector: { version: dev-zedd } }\n',
    );
    const applied = await cli('apply', '-f', 'web.yaml', '-f', 'zed.yaml');
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(
      applied.stderr,
      /^warning: zed\.yaml:4:\d+: Lane dev-zed: spec\.selector: lane dev-zed has no instance of default\/web: no Deployment's pods carry version=dev-zedd /m,
    );
    const fixed = await cli('apply', '-f', 'web.yaml');
    assert.doesNotMatch(fixed.stderr, /no instance of/, 'only lanes of this apply are checked');

    // web-dev-zed is in no lane (the typo), so deleting it takes nothing from any lane's traffic.
    const quiet = await cli('delete', 'deployment', 'web-dev-zed');
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /reached an instance before/);
    const deleted = await cli('delete', 'deployment', 'web-base');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(
      deleted.stderr,
      /^warning: requests for default\/web in lanes base, dev-zed and without a lane tag reached an instance before and now get 503 LANE_NO_ENDPOINTS: no healthy endpoint of default\/web in lane base, instances in no lane; deploy an instance/m,
    );
  });

  test('the same note for the same field of several Deployments is one line; -v lists each', async () => {
    const pull = '        imagePullPolicy: IfNotPresent\n';
    writeFileSync(
      join(dir, 'pull.yaml'),
      ['p1', 'p2', 'p3']
        .map((n) =>
          deployment(
            n,
            "require('node:http').createServer().listen(Number(process.env.PORT), '127.0.0.1')",
            pull,
          ),
        )
        .join('---\n'),
    );
    const r = await cli('apply', '-f', 'pull.yaml', '--wait', '0');
    assert.equal(r.code, 0, r.stderr);
    const notes = r.stderr.split('\n').filter((l) => l.startsWith('note:'));
    assert.deepEqual(notes.length, 1, r.stderr);
    assert.match(
      notes[0]!,
      /^note: 3 × spec\.template\.spec\.containers\[\]\.imagePullPolicy: ignored: .* \(pull\.yaml:\d+,\d+,\d+; -v lists each\)$/,
    );
    const verbose = await cli('apply', '-f', 'pull.yaml', '--wait', '0', '-v');
    assert.equal(verbose.stderr.split('\n').filter((l) => l.startsWith('note:')).length, 3);
  });
});
