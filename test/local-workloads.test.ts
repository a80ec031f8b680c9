/**
 * Deployments that run their own command, through the CLI and a real daemon: where the command
 * runs, what it gets, and what happens to traffic while it is edited, scaled, crashes and is
 * deleted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { curl, lanes, teardown } from './support/cli.ts';

const CLI = fileURLToPath(new URL('../src/tools/cli/main.ts', import.meta.url));

/** Answers with its greeting and environment; `/crash` exits with code 3. */
const APP = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/crash') {
    res.end('bye');
    setImmediate(() => process.exit(3));
    return;
  }
  console.log('served', req.url);
  res.end(JSON.stringify({
    greeting: process.env.GREETING,
    cwd: process.cwd(),
    proxy: process.env.http_proxy,
    envProxy: process.env.NODE_USE_ENV_PROXY,
    leaked: process.env.LANES_TEST_SECRET ?? null,
    pid: process.pid,
    node: process.version,
  }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on', process.env.PORT));
`;

function manifests(greeting: string, replicas: number): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: edge
spec:
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: hello
spec:
  hosts: ["*"]
  gateways: [edge]
  http:
  - route:
    - destination: {host: hello}
---
apiVersion: v1
kind: Service
metadata:
  name: hello
spec:
  ports:
  - port: 8080
    name: http
  selector:
    app: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: hello
        command: ["node", "app.cjs"]
        env:
        - {name: GREETING, value: ${greeting}}
`;
}

interface Answer {
  greeting: string;
  cwd: string;
  proxy: string;
  envProxy: string;
  leaked: string | null;
  pid: number;
  node: string;
}

describe('a Deployment that runs its own command', { timeout: 120_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'lanes-workloads-'));
  const project = join(work, 'project');
  const state = join(work, 'state');
  const cli = async (...args: string[]) => {
    const r = await lanes(args, {
      cwd: work,
      state,
      // The system's node (if any) first on the daemon's PATH: instances must still get lanes'.
      env: { LANES_TEST_SECRET: 'from the daemon’s environment', PATH: '/usr/bin:/bin' },
    });
    assert.equal(r.code, 0, `lanes ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  let url = '';
  const ask = async (path = '/') => {
    const answer = await curl(`${url}${path}`);
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body) as Answer;
  };
  const pids = async () => {
    const { items } = JSON.parse(
      (await cli('get', 'deployment', 'hello', '-o', 'json')).stdout,
    ) as {
      items: { instances: { pid: number | null; status: string; restarts: number }[] }[];
    };
    return items[0]?.instances ?? [];
  };

  before(async () => {
    mkdirSync(project);
    writeFileSync(join(project, 'app.cjs'), APP);
    writeFileSync(join(project, 'hello.yaml'), manifests('one', 2));
    await cli('up', '--detach', '--quiet');
    await cli('apply', '-f', 'project/hello.yaml');
    const status = JSON.parse((await cli('status', '-o', 'json')).stdout) as {
      gateways: { url: string }[];
    };
    url = status.gateways[0]?.url ?? '';
  });
  after(async () => {
    await teardown(state, work);
    rmSync(work, { recursive: true, force: true });
  });

  test('runs in the directory of its YAML file, with PORT, http_proxy and its env, and nothing else of the daemon’s', async () => {
    const answer = await ask();
    assert.equal(answer.greeting, 'one');
    assert.equal(answer.cwd, project);
    assert.match(answer.proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(answer.envProxy, '1');
    assert.equal(answer.leaked, null);
    assert.equal(answer.node, process.version, '`node` is the Node the daemon runs on');
  });

  test('replicas: 2 runs two processes, and requests reach both', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) seen.add((await ask()).pid);
    assert.equal(seen.size, 2);
  });

  test('an edited Deployment is replaced without a failed request, and apply returns once only the new one serves', async () => {
    const failures: string[] = [];
    const greetings = new Set<string>();
    let running = true;
    const loop = (async () => {
      while (running) {
        try {
          const answer = await curl(url);
          if (answer.status !== 200) failures.push(`${answer.status} ${answer.body}`);
          else greetings.add((JSON.parse(answer.body) as Answer).greeting);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    })();
    writeFileSync(join(project, 'hello.yaml'), manifests('two', 2));
    await cli('apply', '-f', 'project/hello.yaml');
    const right = await ask();
    running = false;
    await loop;
    assert.deepEqual(failures, []);
    assert.equal(right.greeting, 'two');
    assert.ok(greetings.has('one') && greetings.has('two'), [...greetings].join());
  });

  test('scaling up keeps the running instances', async () => {
    const before = (await pids()).map((i) => i.pid);
    writeFileSync(join(project, 'hello.yaml'), manifests('two', 3));
    await cli('apply', '-f', 'project/hello.yaml');
    const after = (await pids()).map((i) => i.pid);
    assert.equal(after.length, 3);
    assert.deepEqual(after.slice(0, 2), before);
  });

  test('logs -f streams what an instance writes while it runs', async () => {
    const follow = spawn(
      process.execPath,
      [CLI, '--state', state, 'logs', 'hello', '--instance', '0', '-f'],
      { cwd: work },
    );
    let out = '';
    follow.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      // What the log held when it started, before any mark was sent…
      for (let i = 0; i < 100 && !out.includes('listening on'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(out, /listening on/, 'logs -f printed what the log already held');
      assert.doesNotMatch(out, /served \/mark-/);
      // …then what the instance writes afterwards, while the command keeps running.
      for (let i = 0; i < 100 && !/served \/mark-\d+/.test(out); i++) {
        await curl(`${url}/mark-${i}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(out, /served \/mark-\d+/);
      assert.equal(follow.exitCode, null, 'logs -f is still following');
    } finally {
      follow.kill();
    }
  });

  test('a crashed instance is restarted, counted, and its exit is in its log', async () => {
    const before = await pids();
    assert.equal((await curl(`${url}/crash`)).body, 'bye');
    let now = before;
    for (
      let i = 0;
      i < 100 && now.every((inst) => inst.restarts === 0 || inst.status !== 'ready');
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await pids();
    }
    const crashed = now.find((inst) => inst.restarts > 0);
    assert.ok(crashed, JSON.stringify(now));
    assert.equal(crashed.status, 'ready');
    const logs = await lanes(['logs', 'hello', '--instance', String(now.indexOf(crashed))], {
      cwd: work,
      state,
    });
    assert.match(logs.stdout, /exited with code 3/);
    for (let i = 0; i < 10; i++) await ask();
  });

  test('deleting it stops every process and its service answers 503 with the reason', async () => {
    const running = (await pids()).map((i) => i.pid).filter((p): p is number => p !== null);
    assert.ok(running.length > 0, 'instances run before the delete');
    await cli('delete', 'deployment', 'hello');
    for (const pid of running)
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `pid ${pid} is gone`);
    const answer = await curl(url);
    assert.equal(answer.status, 503);
    assert.match(answer.body, /default\/hello/);
  });
});
