import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, Client, connect } from './client.ts';
import { CliError } from './io.ts';
import {
  closedPort,
  deadPid,
  type FakeApi,
  startFakeApi,
  stateDirFor,
  TOKEN,
} from './test-fixtures.ts';

/** The one-line message a failing call produces. */
async function failure(p: Promise<unknown>): Promise<CliError> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof CliError, `expected a CliError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

describe('client', () => {
  let api: FakeApi;
  before(async () => {
    api = await startFakeApi();
  });
  after(() => api.close());

  const client = (token = TOKEN) =>
    new Client('/st', { pid: process.pid, api: api.url, startedAt: '' }, token);

  test('sends the bearer token and JSON, returns the JSON answer', async () => {
    api.handler = () => ({
      body: { results: [{ resource: 'Service default/a', action: 'created' }], notes: [] },
    });
    const res = await client().apply({ cluster: 'dev', sources: [{ file: 'a.yaml', text: 'x' }] });
    assert.deepEqual(res, {
      results: [{ resource: 'Service default/a', action: 'created' }],
      notes: [],
    });
    const req = api.requests.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/apply');
    assert.equal(req.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(req.body, { cluster: 'dev', sources: [{ file: 'a.yaml', text: 'x' }] });
  });

  test('resources: only the given query parameters', async () => {
    api.handler = () => ({ body: { items: [] } });
    await client().resources({ kind: 'Deployment', namespace: 'shop' });
    assert.deepEqual(api.requests.at(-1)!.query, { kind: 'Deployment', namespace: 'shop' });
    await client().resources({});
    assert.deepEqual(api.requests.at(-1)!.query, {});
  });

  test('401: the token of this state directory is not the daemon’s', async () => {
    const error = await failure(client('wrong').status());
    assert.equal(
      error.message,
      'the daemon refused the token in /st/token (is this the state directory of the running daemon?)',
    );
  });

  test('400: the error and every issue, one line each', async () => {
    api.handler = () => ({
      status: 400,
      body: {
        error: '2 errors; nothing was applied',
        issues: [
          'a.yaml:3:5: Service default/a: spec.ports: required',
          'b.yaml:1:1: bad\nsecond line',
        ],
      },
    });
    const error = await failure(client().apply({ sources: [] }));
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    assert.equal(error.message, '2 errors; nothing was applied');
    assert.deepEqual(error.details, [
      'a.yaml:3:5: Service default/a: spec.ports: required',
      'b.yaml:1:1: bad second line',
    ]);
  });

  test('an error status without an ErrorResponse names the call', async () => {
    api.handler = () => ({ status: 500, body: 'boom\nat x' });
    const error = await failure(client().status());
    assert.equal(error.message, 'the daemon answered 500 to GET /v1/status: boom');
  });

  test('a 200 that is not JSON', async () => {
    api.handler = () => ({ body: 'hello' });
    const error = await failure(client().status());
    assert.equal(error.message, 'the daemon sent a response that is not JSON to GET /v1/status');
  });

  test('logs: streamed chunks, query with follow=1', async () => {
    api.handler = () => ({ chunks: ['line 1\n', 'line 2\n'] });
    const stream = await client().logs({ workload: 'default/mocka-v1', instance: 0, follow: true });
    let text = '';
    for await (const chunk of stream) text += chunk.toString();
    assert.equal(text, 'line 1\nline 2\n');
    assert.deepEqual(api.requests.at(-1)!.query, {
      workload: 'default/mocka-v1',
      instance: '0',
      follow: '1',
    });
  });

  test('logs: an error status is an error, not a log', async () => {
    api.handler = () => ({ status: 404, body: { error: 'no workload default/nope', issues: [] } });
    const error = await failure(client().logs({ workload: 'default/nope' }));
    assert.equal(error.message, 'no workload default/nope');
  });

  test('connection refused: the recorded daemon is gone', async () => {
    const port = await closedPort();
    const c = new Client(
      '/st',
      { pid: 777, api: `http://127.0.0.1:${port}`, startedAt: '' },
      TOKEN,
    );
    const error = await failure(c.status());
    assert.equal(
      error.message,
      'the daemon recorded in /st/daemon.json (pid 777) is not running; start it again with `lanes up`',
    );
  });
});

describe('connect', () => {
  test('no daemon.json', () => {
    const s = stateDirFor(undefined);
    try {
      assert.throws(() => connect(s.dir), {
        message: `no daemon is running for state directory ${s.dir}; start one with \`lanes up\``,
      });
    } finally {
      s.cleanup();
    }
  });

  test('daemon.json with a dead pid', () => {
    const pid = deadPid();
    const s = stateDirFor('http://127.0.0.1:1', { pid });
    try {
      assert.throws(() => connect(s.dir), {
        message: `the daemon recorded in ${s.dir}/daemon.json (pid ${pid}) is not running; start it again with \`lanes up\``,
      });
    } finally {
      s.cleanup();
    }
  });

  test('a running daemon without a token file', () => {
    const s = stateDirFor('http://127.0.0.1:1');
    try {
      rmSync(join(s.dir, 'token'));
      assert.throws(
        () => connect(s.dir),
        (e: Error) =>
          e instanceof CliError &&
          e.message === `cannot read the daemon's token ${s.dir}/token: no such file or directory`,
      );
    } finally {
      s.cleanup();
    }
  });

  test('a running daemon: a client for its API', () => {
    const s = stateDirFor('http://127.0.0.1:1');
    try {
      const c = connect(s.dir);
      assert.equal(c.daemon.api, 'http://127.0.0.1:1');
      assert.equal(c.stateDir, s.dir);
    } finally {
      s.cleanup();
    }
  });
});
