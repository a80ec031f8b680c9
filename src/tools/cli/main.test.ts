import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ResourceView } from '../../controlplane/local/protocol.ts';
import { explainRequest, parseHeaders } from './commands/explain.ts';
import { mockEnv } from './commands/mock.ts';
import type { DownOptions, LaunchModule, UpOptions } from './launch-types.ts';
import {
  deadPid,
  type FakeApi,
  type RunResult,
  runCli,
  type StateDirFixture,
  startFakeApi,
  stateDirFor,
} from './test-fixtures.ts';

/** A usage error: exit 2, nothing on stdout, exactly one `lanes: …` line on stderr. */
function assertUsage(r: RunResult, message: string | RegExp): void {
  assert.equal(r.code, 2, `exit code, stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^lanes: [^\n]+\n$/);
  const line = r.stderr.slice('lanes: '.length, -1);
  if (typeof message === 'string') assert.equal(line, message);
  else assert.match(line, message);
}

describe('global flags and commands', () => {
  test('--version, version, and a smoke test of the real entry point', async () => {
    const r = await runCli(['--version']);
    assert.deepEqual(r, { code: 0, stdout: 'lanes 0.1.0\n', stderr: '' });
    assert.equal((await runCli(['version'])).stdout, 'lanes 0.1.0\n');
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawnSync(process.execPath, [main, '--version'], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, 'lanes 0.1.0\n');
  });

  test('no command, -h, --help, help: the overview on stdout', async () => {
    for (const argv of [[], ['-h'], ['--help'], ['help']]) {
      const r = await runCli(argv);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^lanes: traffic lanes on one machine/);
      assert.match(r.stdout, /\n {2}explain {4}where a request would go/);
    }
  });

  test('COMMAND --help, -h and help COMMAND print the command’s help', async () => {
    for (const name of [
      'up',
      'down',
      'apply',
      'delete',
      'get',
      'describe',
      'status',
      'logs',
      'explain',
      'override',
      'dashboard',
      'mock',
    ]) {
      for (const argv of [
        [name, '--help'],
        [name, '-h'],
        ['help', name],
      ]) {
        const r = await runCli(argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`Usage: lanes ${name}`), argv.join(' '));
        assert.equal(r.stderr, '');
      }
    }
  });

  test('unknown commands and flags', async () => {
    assertUsage(
      await runCli(['aply']),
      'unknown command "aply" (did you mean "apply"?); commands: up, down, apply, delete, get, describe, status, logs, requests, explain, release, override, dashboard, mock, render, install, uninstall, controller',
    );
    assertUsage(
      await runCli(['--verbose', 'get']),
      'unknown flag --verbose before the command; global flags are --state, --help, --version',
    );
    assertUsage(await runCli(['--state']), '--state needs a directory');
    assertUsage(await runCli(['--state=', 'status']), '--state needs a directory');
  });
});

describe('usage errors per command', () => {
  const cases: [string[], string | RegExp][] = [
    [['up', 'extra'], /^unexpected argument "extra" for `lanes up`/],
    [['up', '--apply'], 'flag --apply needs a value; see `lanes up --help`'],
    [['up', '--apply', '-'], /^lanes up cannot apply stdin/],
    [['up', '--detach=yes'], 'flag --detach takes no value'],
    [['down', 'now'], /^unexpected argument "now" for `lanes down`/],
    [
      ['apply'],
      'lanes apply needs -f PATH (a file, a directory, or - for stdin); see `lanes apply --help`',
    ],
    [['apply', '-f'], 'flag --filename needs a value; see `lanes apply --help`'],
    [
      ['apply', '--fliename', 'x'],
      'unknown flag --fliename for `lanes apply` (did you mean --filename?); see `lanes apply --help`',
    ],
    [['apply', '-x'], 'unknown flag -x for `lanes apply`; see `lanes apply --help`'],
    [
      ['apply', 'mock.yaml'],
      /^unexpected argument "mock.yaml" for `lanes apply` \(it takes its files with -f\)/,
    ],
    [['apply', '-f', 'a.yaml', '--cluster='], '--cluster needs a cluster name'],
    [['apply', '-f', '-', '-f', '-'], '-f - (stdin) can be given only once'],
    [
      ['delete'],
      'lanes delete needs -f PATH, KIND NAME... or KIND/NAME...; see `lanes delete --help`',
    ],
    [
      ['delete', 'deployment'],
      'lanes delete deployment needs at least one NAME (deleting every deployment.apps is not supported)',
    ],
    [['delete', 'pods', 'x'], /^unknown resource type "pods"; known types: deployment \(deploy\)/],
    [
      ['delete', '-f', 'a.yaml', 'deploy', 'x'],
      'lanes delete takes either -f PATH or KIND NAME, not both; see `lanes delete --help`',
    ],
    [
      ['delete', '-f', 'a.yaml', '-n', 'shop'],
      '-n goes with KIND NAME; with -f, the documents name their namespaces',
    ],
    [
      ['delete', 'deploy/a', 'b'],
      'expected KIND/NAME, got "b"; with KIND/NAME every argument has that form',
    ],
    [
      ['delete', 'deploy', 'shop/a'],
      'expected a NAME, got "shop/a"; use -n NAMESPACE for the namespace',
    ],
    [['get'], /^lanes get needs a KIND; known types: /],
    [['get', 'deploymnt'], /^unknown resource type "deploymnt" \(did you mean "deployment"\?\)/],
    [
      ['get', 'deploy', 'a', 'b'],
      /^unexpected argument "b" for `lanes get` \(it takes KIND \[NAME\]\)/,
    ],
    [
      ['get', 'deploy', '-o', 'wide'],
      'unknown output format "wide" for -o; use one of table, json, yaml',
    ],
    [['get', 'deploy/a', 'b'], 'unexpected argument "b" after KIND/NAME; see `lanes get --help`'],
    [['get', 'deploy', '--all-namespaces'], /^unknown flag --all-namespaces for `lanes get`/],
    [['describe', 'deploy'], 'lanes describe deploy needs a NAME'],
    [['describe'], /^lanes describe needs a KIND and a NAME; known types: /],
    [['status', 'now'], /^unexpected argument "now" for `lanes status`/],
    [['status', '-o', 'xml'], 'unknown output format "xml" for -o; use one of table, json, yaml'],
    [['logs'], 'lanes logs needs a WORKLOAD (NAME or NAMESPACE/NAME of a Deployment)'],
    [['logs', 'a', 'b'], /^unexpected argument "b" for `lanes logs`/],
    [
      ['logs', 'a', '--instance', '-1'],
      "flag --instance needs a value; to give a value that starts with '-', write --instance=VALUE",
    ],
    [['logs', 'a', '--instance', 'x'], '--instance must be a whole number from 0 to 9999, got "x"'],
    [['logs', 'a/b/c'], 'WORKLOAD must be NAME or NAMESPACE/NAME, got "a/b/c"'],
    [
      ['explain'],
      'lanes explain needs --gateway NAMESPACE/NAME or --from WORKLOAD --to SERVICE; see `lanes explain --help`',
    ],
    [
      ['explain', '--gateway', 'gw', '--from', 'a'],
      'lanes explain starts at --gateway or at --from, not both',
    ],
    [
      ['explain', '--from', 'mocka-v1'],
      '--from needs --to SERVICE[:PORT]: the service the workload calls',
    ],
    [
      ['explain', '--gateway', 'istio-system/gw', '--to', 'x'],
      '--to goes with --from; a gateway request goes where its routes say',
    ],
    [
      ['explain', '--gateway', 'istio-system/gw', '--port', '0'],
      '--port must be a whole number from 1 to 65535, got "0"',
    ],
    [
      ['explain', '--gateway', 'istio-system/gw', 'checkout'],
      'PATH must start with /, got "checkout"',
    ],
    [
      ['explain', '--gateway', 'istio-system/gw', '-H', 'novalue'],
      `-H needs 'name: value', got "novalue"`,
    ],
    [
      ['explain', '--gateway', 'istio-system/gw', '/', '/x'],
      /^unexpected argument "\/x" for `lanes explain`/,
    ],
    [['override'], 'lanes override needs sign or rotate-key; see `lanes override --help`'],
    [
      ['override', 'sign'],
      'lanes override sign needs SERVICE=LANE pairs, e.g. default/mockb=dev-bob',
    ],
    [['override', 'revoke'], 'unknown action "revoke" for lanes override; use sign or rotate-key'],
    [['override', 'rotate-key', '--ttl', '1h'], '--ttl goes with sign'],
    [['mock'], 'lanes mock needs --app APP (or $app): the name it answers with'],
    [
      ['mock', '--app', 'a'],
      'lanes mock needs --version VERSION (or $version): the version it answers with',
    ],
    [
      ['mock', '--app', 'a', '--version', 'v1', '--port', '70000'],
      '--port must be a whole number from 0 to 65535, got "70000"',
    ],
    [
      ['mock', '--app', 'a', '--version', 'v1', '--upstream', 'https://x'],
      '--upstream must be an http:// URL, got "https://x"',
    ],
    [['get', 'deploy', '--state='], '--state needs a directory'],
  ];
  for (const [argv, message] of cases) {
    test(argv.join(' ') || '(none)', async () => {
      assertUsage(await runCli(argv), message);
    });
  }
});

describe('explain and mock arguments', () => {
  test('explain requests', () => {
    assert.deepEqual(
      explainRequest({
        gateway: 'istio-system/ingressgateway',
        port: 80,
        headers: ['Alice-Dev: true', 'x-a: 1', 'X-A: 2'],
        branch: 'v2',
      }),
      {
        gateway: 'istio-system/ingressgateway',
        port: 80,
        path: '/',
        headers: { 'alice-dev': 'true', 'x-a': '1, 2' },
        branch: 'v2',
      },
    );
    assert.deepEqual(
      explainRequest({ from: 'mocka-v1', to: 'mockb:8000', method: 'post', path: '/api' }),
      {
        from: 'default/mocka-v1',
        to: 'mockb:8000',
        method: 'POST',
        path: '/api',
      },
    );
    assert.deepEqual(parseHeaders(['baggage: version=v2, user=a:b']), {
      baggage: 'version=v2, user=a:b',
    });
  });

  test('mock environment: the flags first, else the variables the asm-mock image reads', () => {
    const cases: [
      string,
      Record<string, string>,
      Parameters<typeof mockEnv>[1],
      Record<string, string> | RegExp,
    ][] = [
      [
        'flags only',
        {},
        { app: 'mocka', version: 'v2', upstream: 'http://127.0.0.1:9000/', port: 0 },
        { app: 'mocka', version: 'v2', PORT: '0', upstream_url: 'http://127.0.0.1:9000/' },
      ],
      [
        'a workload: everything from its env and the PORT lanes gave it',
        { app: 'mockb', version: 'v1', upstream_url: 'http://mockc:8000/', PORT: '41000' },
        { app: undefined, version: undefined, upstream: undefined, port: undefined },
        { app: 'mockb', version: 'v1', PORT: '41000', upstream_url: 'http://mockc:8000/' },
      ],
      [
        'flags override the env; no PORT anywhere is 8000',
        { HOME: '/h', app: 'x', version: 'y', upstream_url: 'http://old/' },
        { app: 'mocka', version: 'v1', upstream: 'http://new/', port: undefined },
        { HOME: '/h', app: 'mocka', version: 'v1', PORT: '8000', upstream_url: 'http://new/' },
      ],
      [
        'no app',
        {},
        { app: undefined, version: 'v1', upstream: undefined, port: undefined },
        /needs --app APP \(or \$app\)/,
      ],
      [
        'an upstream from the env that is not http',
        { app: 'a', version: 'v1', upstream_url: 'ftp://x/' },
        { app: undefined, version: undefined, upstream: undefined, port: undefined },
        /^\$upstream_url must be an http:\/\/ URL, got "ftp:\/\/x\/"$/,
      ],
      [
        'a PORT that is not a port',
        { app: 'a', version: 'v1', PORT: '80a' },
        { app: undefined, version: undefined, upstream: undefined, port: undefined },
        /^\$PORT must be a port number \(0-65535\), got "80a"$/,
      ],
    ];
    for (const [what, env, flags, want] of cases) {
      if (want instanceof RegExp) assert.throws(() => mockEnv(env, flags), { message: want }, what);
      else assert.deepEqual(mockEnv(env, flags), want, what);
    }
  });
});

describe('up and down', () => {
  function fakeLaunch(): LaunchModule & { calls: (UpOptions | DownOptions)[] } {
    const calls: (UpOptions | DownOptions)[] = [];
    return {
      calls,
      up: async (opts) => {
        calls.push(opts);
        return 0;
      },
      down: async (opts) => {
        calls.push(opts);
        return 3;
      },
    };
  }

  test('up passes the state directory and detach; --apply becomes an apply after ready', async () => {
    const launch = fakeLaunch();
    const r = await runCli(['up', '-d', '--apply', 'a.yaml', '--apply', '/abs/b'], {
      cwd: '/work/shop',
      env: { LANES_HOME: 'st' },
      launch,
    });
    assert.equal(r.code, 0);
    assert.equal(launch.calls.length, 1);
    const { afterReady, ...rest } = launch.calls[0] as UpOptions;
    assert.deepEqual(rest, { stateDir: '/work/shop/st', detach: true, quiet: false });
    assert.ok(afterReady, 'up with --apply gives the launcher something to run once ready');
  });

  test('up without --apply has nothing to run once ready', async () => {
    const launch = fakeLaunch();
    await runCli(['up'], { cwd: '/w', launch });
    assert.deepEqual(launch.calls, [{ stateDir: '/w/.lanes', detach: false, quiet: false }]);
  });

  test('down returns the launcher’s exit code; --state before or after the command', async () => {
    const launch = fakeLaunch();
    assert.equal((await runCli(['--state', 'one', 'down'], { cwd: '/w', launch })).code, 3);
    assert.equal((await runCli(['down', '--state=/two'], { cwd: '/w', launch })).code, 3);
    assert.deepEqual(launch.calls, [{ stateDir: '/w/one' }, { stateDir: '/two' }]);
  });
});

describe('against a daemon', () => {
  let api: FakeApi;
  let state: StateDirFixture;
  let files: string;
  before(async () => {
    api = await startFakeApi();
    state = stateDirFor(api.url);
    files = mkdtempSync(join(tmpdir(), 'lanes-cli-files-'));
    writeFileSync(join(files, 'mock.yaml'), 'kind: Service\n');
    mkdirSync(join(files, 'dir'));
    writeFileSync(join(files, 'dir', 'b.yaml'), 'kind: B\n');
    writeFileSync(join(files, 'dir', 'a.yml'), 'kind: A\n');
  });
  after(async () => {
    await api.close();
    state.cleanup();
    rmSync(files, { recursive: true, force: true });
  });
  const cli = (argv: string[], opts: { stdin?: string; signal?: AbortSignal } = {}) =>
    runCli(['--state', state.dir, ...argv], { cwd: files, ...opts });

  test('apply: files, directories and stdin; kubectl-style results; notes on stderr', async () => {
    api.handler = () => ({
      body: {
        results: [
          { resource: 'Deployment default/mocka-v1', action: 'created' },
          { resource: 'ASMSwimLane v1', action: 'configured' },
          { resource: 'Service default/mocka (cluster dev)', action: 'unchanged' },
        ],
        started: [],
        issues: [
          {
            file: 'mock.yaml',
            line: 30,
            col: 9,
            resource: 'Deployment default/mocka-v1',
            path: 'spec.template.spec.containers[0].imagePullPolicy',
            message: 'ignored',
            severity: 'ignored',
          },
        ],
        notes: [
          'warning: VirtualService istio-system/vs is now ResolvedRefs=False (NotFound): gone',
        ],
      },
    });
    const r = await cli(['apply', '-f', 'mock.yaml', '-f', 'dir', '-f', '-', '--cluster', 'dev'], {
      stdin: 'kind: FromStdin\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'deployment.apps/mocka-v1 created\nasmswimlane.istio.alibabacloud.com/v1 configured\nservice/mocka unchanged\n',
    );
    assert.equal(
      r.stderr,
      'note: mock.yaml:30:9: Deployment default/mocka-v1: spec.template.spec.containers[0].imagePullPolicy: ignored\n' +
        'warning: VirtualService istio-system/vs is now ResolvedRefs=False (NotFound): gone\n',
    );
    assert.deepEqual(api.requests.at(-1)!.body, {
      cluster: 'dev',
      sources: [
        { file: 'mock.yaml', text: 'kind: Service\n', dir: files },
        { file: 'dir/a.yml', text: 'kind: A\n', dir: join(files, 'dir') },
        { file: 'dir/b.yaml', text: 'kind: B\n', dir: join(files, 'dir') },
        { file: '<stdin>', text: 'kind: FromStdin\n', dir: files },
      ],
    });
  });

  test('apply rejected: every issue on its own line, then the error; exit 1', async () => {
    api.handler = () => ({
      status: 400,
      body: {
        error: '2 errors; nothing was applied',
        issues: [
          'mock.yaml:3:5: Service default/mocka: spec.ports[0].port: Required value',
          'mock.yaml:9:1: kind: unknown kind "Servce" (did you mean "Service"?)',
        ],
      },
    });
    const r = await cli(['apply', '-f', 'mock.yaml']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `mock.yaml:3:5: Service default/mocka: spec.ports[0].port: Required value
mock.yaml:9:1: kind: unknown kind "Servce" (did you mean "Service"?)
lanes: 2 errors; nothing was applied
`,
    );
  });

  test('apply: unreadable paths are reported before anything is sent', async () => {
    const before = api.requests.length;
    const r = await cli(['apply', '-f', 'nope.yaml', '-f', 'mock.yaml', '-f', 'missing/']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `nope.yaml: no such file or directory
missing: no such file or directory
lanes: cannot read 2 paths; nothing was sent to the daemon
`,
    );
    assert.equal(api.requests.length, before);
  });

  test('delete by kind and names, by KIND/NAME, and by file', async () => {
    api.handler = (req) => ({
      body: {
        results: (
          (req.body as { targets?: { kind: string; names: string[] }[] }).targets ?? [
            { kind: 'Service', names: ['mocka'] },
          ]
        ).flatMap((t) =>
          t.names.map((n) => ({ resource: `${t.kind} default/${n}`, action: 'deleted' })),
        ),
        notes:
          req.body && (req.body as { targets?: unknown }).targets
            ? []
            : [
                'warning: VirtualService istio-system/vs is now ResolvedRefs=False (NotFound): gone',
              ],
      },
    });
    let r = await cli(['delete', 'deploy', 'mocka-v1', 'mockc-v1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'deployment.apps/mocka-v1 deleted\ndeployment.apps/mockc-v1 deleted\n');
    assert.deepEqual(api.requests.at(-1)!.body, {
      targets: [{ kind: 'Deployment', names: ['mocka-v1', 'mockc-v1'], namespace: 'default' }],
    });

    r = await cli([
      'delete',
      'asmswimlane/v1',
      'vs/ingress',
      'VS/other',
      '-n',
      'istio-system',
      '--cluster',
      'dev',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(api.requests.at(-1)!.body, {
      cluster: 'dev',
      targets: [
        { kind: 'ASMSwimLane', names: ['v1'] },
        { kind: 'VirtualService', names: ['ingress', 'other'], namespace: 'istio-system' },
      ],
    });

    r = await cli(['delete', '-f', 'mock.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'service/mocka deleted\n');
    assert.equal(
      r.stderr,
      'warning: VirtualService istio-system/vs is now ResolvedRefs=False (NotFound): gone\n',
      'a warning keeps its prefix',
    );
    assert.deepEqual(api.requests.at(-1)!.body, {
      sources: [{ file: 'mock.yaml', text: 'kind: Service\n', dir: files }],
    });
  });

  test('delete of something that does not exist: the daemon’s message, exit 1', async () => {
    api.handler = () => ({
      status: 404,
      body: { error: 'deployment default/nope not found', issues: [] },
    });
    const r = await cli(['delete', 'deploy', 'nope']);
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr: 'lanes: deployment default/nope not found\n',
    });
  });

  const mockaV1: ResourceView = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: 'mocka-v1',
    namespace: 'default',
    cluster: 'default',
    source: { file: 'mock.yaml', line: 14 },
    manifest: { spec: { replicas: 1 } },
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'accepted' }],
    notes: [],
    instances: [
      {
        index: 0,
        status: 'ready',
        pid: 10,
        port: 1,
        endpoint: '127.0.0.1:2',
        proxy: '127.0.0.1:3',
        restarts: 0,
        log: '/l',
        lastExit: null,
      },
    ],
  };

  test('get: the query, then a table, json or yaml', async () => {
    api.handler = () => ({ body: { items: [mockaV1] } });
    let r = await cli(['get', 'deployments.apps', '-n', 'default', '--cluster', 'default']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(api.requests.at(-1)!.query, {
      kind: 'Deployment',
      namespace: 'default',
      cluster: 'default',
    });
    assert.equal(
      r.stdout,
      `NAME       NAMESPACE   CLUSTER   READY   STATUS   RESTARTS
mocka-v1   default     default   1/1     Ready    0
`,
    );
    r = await cli(['get', 'deploy', 'mocka-v1', '-o', 'json']);
    assert.deepEqual(api.requests.at(-1)!.query, { kind: 'Deployment', name: 'mocka-v1' });
    assert.deepEqual(JSON.parse(r.stdout), { items: [mockaV1] });
    r = await cli(['get', 'deploy/mocka-v1', '-o', 'yaml']);
    assert.match(
      r.stdout,
      /^items:\n {2}- apiVersion: apps\/v1\n {4}kind: Deployment\n {4}name: mocka-v1\n/,
    );
  });

  test('get: -n is not sent for cluster-scoped kinds', async () => {
    api.handler = () => ({ body: { items: [] } });
    await cli(['get', 'lanes', '-n', 'default']);
    assert.deepEqual(api.requests.at(-1)!.query, { kind: 'Lane' });
  });

  test('get: nothing found', async () => {
    api.handler = () => ({ body: { items: [] } });
    let r = await cli(['get', 'vs', '-n', 'shop']);
    assert.deepEqual(r, {
      code: 0,
      stdout: '',
      stderr: 'No resources found in namespace "shop".\n',
    });
    r = await cli(['get', 'vs', '-o', 'json']);
    assert.deepEqual(r, { code: 0, stdout: '{\n  "items": []\n}\n', stderr: '' });
    r = await cli(['get', 'vs', 'nope']);
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr: 'lanes: virtualservices.networking.istio.io "nope" not found\n',
    });
    r = await cli(['describe', 'deploy', 'nope', '--cluster', 'dev']);
    assert.equal(r.stderr, 'lanes: deployments.apps "nope" not found in cluster "dev"\n');
  });

  test('get and describe of a name that is not there: the one meant, or the few there are', async () => {
    // The daemon answers a query by name with nothing, and the query for the kind with every one.
    api.handler = (req) => ({
      body: {
        items:
          req.query.name === undefined
            ? [
                { ...mockaV1, name: 'mocka-v1' },
                { ...mockaV1, name: 'mockb-v1' },
              ]
            : [],
      },
    });
    let r = await cli(['describe', 'deploy', 'mocka-v2']);
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr: 'lanes: deployments.apps "mocka-v2" not found (did you mean "mocka-v1"?)\n',
    });
    assert.deepEqual(api.requests.at(-1)!.query, { kind: 'Deployment' });
    r = await cli(['get', 'deploy', 'web']);
    assert.equal(
      r.stderr,
      'lanes: deployments.apps "web" not found (deployments: mocka-v1, mockb-v1)\n',
    );
  });

  test('requests: none yet, or none with the trace id asked for, each said as such', async () => {
    api.handler = () => ({ body: { requests: [] } });
    let r = await cli(['requests']);
    assert.deepEqual(r, {
      code: 0,
      stdout: '',
      stderr: 'No requests yet: send one through a gateway (lanes status lists them).\n',
    });
    r = await cli(['requests', '--trace', 'abc']);
    assert.deepEqual(api.requests.at(-1)!.query, { trace: 'abc' });
    assert.deepEqual(r, {
      code: 0,
      stdout: '',
      stderr:
        "No request with trace id abc among the recent ones the daemon keeps; `lanes requests` shows each request's trace id.\n",
    });
  });

  test('describe', async () => {
    api.handler = () => ({ body: { items: [mockaV1] } });
    const r = await cli(['describe', 'deploy', 'mocka-v1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Name: {7}mocka-v1\nNamespace: {2}default\n/);
    assert.match(r.stdout, /\nInstances:\n {2}INSTANCE {3}STATUS/);
  });

  test('status: table, and json with exactly the response', async () => {
    const status = {
      gateways: [
        {
          name: 'ingressgateway',
          namespace: 'istio-system',
          cluster: 'default',
          url: 'http://127.0.0.1:1',
        },
      ],
      workloads: [],
      lanes: [],
    };
    api.handler = () => ({ body: status });
    let r = await cli(['status', '-o', 'json']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${JSON.stringify(status, null, 2)}\n`);
    r = await cli(['status']);
    assert.match(
      r.stdout,
      new RegExp(
        `^Daemon: pid ${process.pid}, ${api.url}, started 2026-01-02T03:04:05.000Z, state ${state.dir}\n\nGateways:\n`,
      ),
    );
    assert.match(r.stdout, /\nWorkloads:\n {2}<none>\n\nLanes:\n {2}<none>\n$/);
  });

  test('logs: the workload with its namespace, streamed to stdout', async () => {
    api.handler = () => ({ chunks: ['listening on 127.0.0.1:41000\n', 'GET / 200\n'] });
    const r = await cli(['logs', 'mocka-v1', '-f', '--instance', '1', '--cluster', 'dev']);
    assert.deepEqual(r, {
      code: 0,
      stdout: 'listening on 127.0.0.1:41000\nGET / 200\n',
      stderr: '',
    });
    assert.deepEqual(api.requests.at(-1)!.query, {
      workload: 'default/mocka-v1',
      cluster: 'dev',
      instance: '1',
      follow: '1',
    });
  });

  test('logs -f ends quietly when its signal aborts', async () => {
    api.handler = () => ({ chunks: Array.from({ length: 200 }, (_, i) => `line ${i}\n`) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const r = await cli(['logs', 'shop/mocka-v1', '-f'], { signal: controller.signal });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^line 0\n/);
    assert.doesNotMatch(r.stdout, /line 199/);
  });

  test('explain: the request, then hop by hop', async () => {
    api.handler = () => ({
      body: {
        hops: [
          {
            hop: 'gateway istio-system/ingressgateway-dev:80',
            request: 'GET /',
            outcome: '→ default/mocka lane dev-alice',
            steps: ['rule alice matched'],
          },
        ],
        end: 'mocka has no upstream',
      },
    });
    const r = await cli([
      'explain',
      '--gateway',
      'istio-system/ingressgateway-dev',
      '-H',
      'alice-dev: true',
      '/',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(api.requests.at(-1)!.body, {
      gateway: 'istio-system/ingressgateway-dev',
      path: '/',
      headers: { 'alice-dev': 'true' },
    });
    assert.equal(
      r.stdout,
      `1. gateway istio-system/ingressgateway-dev:80
   request: GET /
   outcome: → default/mocka lane dev-alice
     - rule alice matched

end: mocka has no upstream
`,
    );
    const json = await cli(['explain', '--from', 'shop/mocka-v1', '--to', 'mockb', '-o', 'json']);
    assert.deepEqual(JSON.parse(json.stdout), api.handler(api.requests.at(-1)!).body);
    assert.deepEqual(api.requests.at(-1)!.body, { from: 'shop/mocka-v1', to: 'mockb', path: '/' });
    await cli(['explain', '--gateway', 'istio-system/gw', '--override', 'mockb=dev-bob']);
    assert.deepEqual(api.requests.at(-1)!.body, {
      gateway: 'istio-system/gw',
      path: '/',
      override: 'mockb=dev-bob',
    });
  });

  test('override sign: only the header line on stdout (for curl -H "$(…)"), warnings on stderr', async () => {
    const signed = {
      header: 'lanes-override',
      value: 'default/mockb=dev-bob,default/mockc=v2;exp=1;kid=0badcafe;sig=x',
      pairs: 'default/mockb=dev-bob,default/mockc=v2',
      expires: '2026-01-01T00:00:00.000Z',
      kid: '0badcafe',
      warnings: ['lane v2 does not contain default/mockc: requests fall back to its baselines'],
    };
    api.handler = () => ({ body: signed });
    const r = await cli(['override', 'sign', 'mockb=dev-bob', 'mockc=v2', '--ttl', '30m']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(api.requests.at(-1)!.body, { pairs: 'mockb=dev-bob,mockc=v2', ttl: '30m' });
    assert.equal(r.stdout, `lanes-override: ${signed.value}\n`);
    assert.equal(r.stderr, `warning: ${signed.warnings[0]}\n`);
    const json = await cli(['override', 'sign', 'mockb=dev-bob', '-o', 'json']);
    assert.deepEqual(JSON.parse(json.stdout), signed);
    api.handler = () => ({ body: { kid: '12345678' } });
    const rotated = await cli(['override', 'rotate-key']);
    assert.equal(
      rotated.stdout,
      'override key rotated: new key 12345678; overrides signed before are no longer followed\n',
    );
  });
});

describe('which daemon', () => {
  test('no daemon.json: say so and how to start one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-cli-'));
    try {
      const r = await runCli(['get', 'deploy'], { cwd: dir });
      assert.deepEqual(r, {
        code: 1,
        stdout: '',
        stderr: `lanes: no daemon is running for state directory ${dir}/.lanes; start one with \`lanes up\`\n`,
      });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('a dead pid: the stale-daemon message', async () => {
    const pid = deadPid();
    const s = stateDirFor('http://127.0.0.1:1', { pid });
    try {
      const r = await runCli(['status'], { env: { LANES_HOME: s.dir } });
      assert.equal(
        r.stderr,
        `lanes: the daemon recorded in ${s.dir}/daemon.json (pid ${pid}) is not running; start it again with \`lanes up\`\n`,
      );
      assert.equal(r.code, 1);
    } finally {
      s.cleanup();
    }
  });

  test('$LANES_HOME and --state choose the directory; --state wins; a wrong token is a 401', async () => {
    const api = await startFakeApi(() => ({ body: { gateways: [], workloads: [], lanes: [] } }));
    const good = stateDirFor(api.url);
    const wrong = stateDirFor(api.url, { token: 'other' });
    try {
      let r = await runCli(['status', '-o', 'json'], { env: { LANES_HOME: good.dir } });
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(['status', '-o', 'json'], { env: { LANES_HOME: good.dir }, cwd: '/' });
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(['status', '--state', wrong.dir], { env: { LANES_HOME: good.dir } });
      assert.deepEqual(r, {
        code: 1,
        stdout: '',
        stderr: `lanes: the daemon refused the token in ${wrong.dir}/token (is this the state directory of the running daemon?)\n`,
      });
    } finally {
      await api.close();
      good.cleanup();
      wrong.cleanup();
    }
  });
});
