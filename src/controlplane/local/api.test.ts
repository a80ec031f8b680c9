/**
 * The log endpoint of the control API over a real socket (port 0), with a stand-in daemon that
 * only knows where the log file is: following, a client that goes away, files that go away, are
 * truncated or rotated, and a reader slower than the file.
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { type ApiServer, startApi } from './api.ts';
import type { Daemon } from './daemon.ts';

const TOKEN = 'api-test-token';

let root: string;
let counter = 0;
let api: ApiServer | undefined;
const clients: http.ClientRequest[] = [];

before(() => {
  root = mkdtempSync(join(tmpdir(), 'lanes-api-test-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await api?.close();
  api = undefined;
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A log path in a fresh logs directory (the file itself is not created). */
function freshLog(): string {
  const dir = join(root, `case-${++counter}`, 'logs');
  mkdirSync(dir, { recursive: true });
  return join(dir, 'default.default.a.0.log');
}

/** An API whose daemon answers every logs request with `file`. */
async function serve(file: string): Promise<ApiServer> {
  const daemon = { logFile: () => file, dashboard: { handle: () => false } } as unknown as Daemon;
  api = await startApi(daemon, TOKEN, () => {});
  return api;
}

interface LogClient {
  readonly req: http.ClientRequest;
  /** Everything received so far. */
  text(): string;
  /** Resolves with the whole body once the response ends. */
  readonly ended: Promise<string>;
  /** Resolves once the body received so far satisfies `done`. */
  until(done: (text: string) => boolean): Promise<void>;
}

async function getLog(server: ApiServer, follow: boolean): Promise<LogClient> {
  const url = `${server.url}/v1/logs?workload=default/a${follow ? '&follow=1' : ''}`;
  let body = '';
  const waiters: (() => void)[] = [];
  let ended!: (text: string) => void;
  const endedP = new Promise<string>((resolve) => {
    ended = resolve;
  });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${TOKEN}` }, agent: false });
    clients.push(req);
    req.on('response', resolve);
    req.on('error', reject);
  });
  assert.equal(res.statusCode, 200);
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    body += chunk;
    for (const w of waiters.splice(0)) w();
  });
  res.on('end', () => ended(body));
  res.on('error', () => {});
  const req = clients.at(-1)!;
  return {
    req,
    text: () => body,
    ended: endedP,
    until: (done) =>
      waitFor(
        () => done(body),
        () => `the log so far: ${JSON.stringify(body)}`,
      ),
  };
}

/** Polls `done` until it holds; fails after 5 s with `what()`. */
async function waitFor(done: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out; ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How many timers and fs watchers this process holds. */
function followResources(): { timers: number; watchers: number } {
  const info = process.getActiveResourcesInfo();
  return {
    timers: info.filter((r) => r === 'Timeout').length,
    watchers: info.filter((r) => r === 'FSEventWrap').length,
  };
}

/** How many of this process's descriptors are open on `file` (Linux: /proc/self/fd). */
function openFds(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // Closed while we looked.
    }
  }
  return n;
}

describe('GET /v1/logs', () => {
  test('without follow: the whole file (a few MiB, piped), then the end', async () => {
    const file = freshLog();
    const line = `${'x'.repeat(99)}\n`;
    writeFileSync(file, line.repeat(40_000));
    const log = await getLog(await serve(file), false);
    const body = await log.ended;
    assert.equal(body.length, 4_000_000);
    assert.equal(body, line.repeat(40_000));
  });

  test('without follow: a file that does not exist yet is an empty log', async () => {
    const log = await getLog(await serve(freshLog()), false);
    assert.equal(await log.ended, '');
  });

  test('a log that cannot be read (a directory in its place) ends the response, not the daemon', async () => {
    const file = freshLog();
    mkdirSync(file);
    const server = await serve(file);
    assert.equal(await (await getLog(server, false)).ended, '');
    // The daemon still answers.
    rmSync(file, { recursive: true });
    writeFileSync(file, 'fine\n');
    assert.equal(await (await getLog(server, false)).ended, 'fine\n');
  });

  test('follow: appended output arrives; a client that goes away stops the follow (no timer, no watcher left)', async () => {
    const file = freshLog();
    writeFileSync(file, 'one\n');
    const server = await serve(file);
    const before = followResources();
    const log = await getLog(server, true);
    await log.until((t) => t === 'one\n');
    appendFileSync(file, 'two\n');
    await log.until((t) => t === 'one\ntwo\n');
    const during = followResources();
    assert.ok(during.timers > before.timers, 'following polls');
    assert.ok(during.watchers > before.watchers, 'following watches');
    log.req.destroy();
    await waitFor(
      () => {
        const now = followResources();
        return now.timers === before.timers && now.watchers === before.watchers;
      },
      () => `still held: ${JSON.stringify(followResources())}, before: ${JSON.stringify(before)}`,
    );
  });

  test('follow: a file deleted while followed does not crash the daemon, and comes back from its start', async () => {
    const file = freshLog();
    writeFileSync(file, 'before\n');
    const server = await serve(file);
    const log = await getLog(server, true);
    await log.until((t) => t === 'before\n');
    unlinkSync(file);
    await new Promise((resolve) => setTimeout(resolve, 50));
    writeFileSync(file, 'after\n');
    await log.until((t) => t === 'before\nafter\n');
    assert.equal(await (await getLog(server, false)).ended, 'after\n');
  });

  test('follow: a truncated file is followed again from its start', async () => {
    const file = freshLog();
    writeFileSync(file, 'a long first line\n');
    const log = await getLog(await serve(file), true);
    await log.until((t) => t === 'a long first line\n');
    truncateSync(file, 0);
    appendFileSync(file, 'new\n');
    await log.until((t) => t === 'a long first line\nnew\n');
    appendFileSync(file, 'more\n');
    await log.until((t) => t === 'a long first line\nnew\nmore\n');
  });

  test('follow: a rotated file (moved to .1, a new one started) is followed from the new start', async () => {
    const file = freshLog();
    writeFileSync(file, 'old\n');
    const log = await getLog(await serve(file), true);
    await log.until((t) => t === 'old\n');
    renameSync(file, `${file}.1`);
    // Longer than what was sent: only the inode tells it is another file.
    writeFileSync(file, 'new and longer\n');
    await log.until((t) => t === 'old\nnew and longer\n');
    appendFileSync(`${file}.1`, 'late line of the old run\n');
    appendFileSync(file, 'next\n');
    await log.until((t) => t.endsWith('next\n'));
    assert.equal(log.text(), 'old\nnew and longer\nnext\n');
  });

  test('a reader that does not read holds the file back, and its going away closes the file', {
    skip: !existsSync('/proc/self/fd') && 'needs /proc',
  }, async () => {
    const file = freshLog();
    // Written a MiB at a time: one 48 MiB buffer would still count in the baseline.
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 48; i++) appendFileSync(file, mib);
    const server = await serve(file);
    const url = `${server.url}/v1/logs?workload=default/a`;
    const baseline = process.memoryUsage().arrayBuffers;
    let received = 0;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(url, { headers: { authorization: `Bearer ${TOKEN}` }, agent: false });
      clients.push(req);
      req.on('response', resolve);
      req.on('error', reject);
    });
    res.on('data', (chunk: Buffer) => {
      received += chunk.length;
      res.pause();
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const held = process.memoryUsage().arrayBuffers - baseline;
    assert.ok(held < 16 * 1024 * 1024, `the daemon holds ${held} bytes of a 48 MiB log`);
    assert.ok(received < 1024 * 1024, `received ${received}`);
    // The read waiting for the reader is closed with the connection: no descriptor stays open.
    assert.ok(openFds(file) > 0, 'the paused read holds the file open');
    res.destroy();
    await waitFor(
      () => openFds(file) === 0,
      () => `${openFds(file)} descriptors of ${file} still open`,
    );
  });
});

describe('request bodies and tokens', () => {
  /** POSTs `body` to /v1/apply; the stand-in daemon would fail the test if a request reached it. */
  async function post(
    body: string | Buffer,
    token: string | null,
  ): Promise<{ status: number; error: string }> {
    const daemon = {
      apply: () => assert.fail('a bad request must not reach the daemon'),
      dashboard: { handle: () => false },
    } as unknown as Daemon;
    api = await startApi(daemon, TOKEN, () => {});
    const res = await fetch(`${api.url}/v1/apply`, {
      method: 'POST',
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      body,
    });
    return { status: res.status, error: ((await res.json()) as { error: string }).error };
  }

  const cases: {
    title: string;
    body: string | Buffer;
    token?: string | null;
    status: number;
    error: RegExp;
  }[] = [
    {
      title: 'a body that is not JSON',
      body: '{nope',
      status: 400,
      error: /^the request body is not JSON: /,
    },
    {
      title: 'a body over the limit',
      body: Buffer.alloc(64 * 1024 * 1024 + 1, 32),
      status: 413,
      error: /^the request body is over \d+ bytes$/,
    },
    { title: 'no token', body: '{}', token: null, status: 401, error: /token/ },
    { title: 'a wrong token', body: '{}', token: 'api-test-tokeN', status: 401, error: /token/ },
  ];
  for (const c of cases) {
    test(`${c.title}: ${c.status}, with what was wrong`, async () => {
      const answer = await post(c.body, c.token === undefined ? TOKEN : c.token);
      assert.equal(answer.status, c.status);
      assert.match(answer.error, c.error);
    });
  }
});
