/**
 * The dashboard in a real browser (headless Chromium, see support/browser.ts) against a real
 * daemon running the story: production at v1 and bob's mockb in the dev cluster. The test sends
 * known traffic, opens the URL `lanes dashboard` prints, and checks the lane map, the traffic
 * numbers and the resources against what it applied and sent; it saves screenshots
 * ($LANES_SCREENSHOTS, else a temporary directory, printed).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { STORY_DIR, STORY_STEP_1 } from '../scripts/story.ts';
import { type Browser, browserMissing, launchBrowser } from './support/browser.ts';
import { chainOf, check, curl, lanes, teardown } from './support/cli.ts';

const missing = browserMissing();
const SENT = 8;

interface PageState {
  readonly firstMapMs: number | undefined;
  readonly updateMs: readonly number[];
  readonly trafficMs: readonly number[];
  readonly traffic:
    | {
        readonly lanes: readonly { lane: string; total: number }[];
        readonly cells: readonly { service: string; lane: string; total: number }[];
        readonly overridden: number;
      }
    | undefined;
}

describe('the dashboard in a browser', { skip: missing, timeout: 180_000 }, () => {
  const state = mkdtempSync(join(tmpdir(), 'lanes-dashboard-'));
  const shots = process.env.LANES_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'lanes-screens-'));
  const cli = (...args: string[]) => lanes(args, { cwd: STORY_DIR, state });
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(shots, { recursive: true });
    check(await cli('up', '--detach'), 'lanes up --detach');
    check(await cli('apply', ...STORY_STEP_1.flatMap((f) => ['-f', f])), 'apply step 1');
    check(
      await cli('apply', '--cluster', 'dev', '-f', 'dev-services.yaml', '-f', 'bob-dev.yaml'),
      'apply bob-dev',
    );
    const status = JSON.parse(check(await cli('status', '-o', 'json'), 'status').stdout) as {
      gateways: { name: string; url: string }[];
    };
    const prod = status.gateways.find((g) => g.name === 'ingressgateway')!.url;
    // SENT requests into lane v1, one of them with bob's override for mockb.
    const line = check(await cli('override', 'sign', 'mockb=dev-bob'), 'override sign').stdout;
    const [name, value] = [
      line.slice(0, line.indexOf(':')),
      line.slice(line.indexOf(':') + 1).trim(),
    ];
    for (let i = 0; i < SENT; i++) {
      const a = await curl(prod, i === 0 ? { [name]: value } : {});
      assert.equal(a.status, 200, a.body);
      if (i === 0) assert.match(chainOf(a.body), /mockb dev-bob/);
    }
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => assert.fail(`the page threw: ${e.message}`));
    const url = check(await cli('dashboard'), 'lanes dashboard').stdout.trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/dashboard\/login\?code=[\w-]{43}$/);
    await page.goto(url);
  });

  after(async () => {
    await browser?.close();
    await teardown(state, STORY_DIR);
    rmSync(state, { recursive: true, force: true });
  });

  const pageState = () =>
    page.evaluate(() => (globalThis as unknown as { lanesDashboard: PageState }).lanesDashboard);

  test('the login URL leaves no code in the address bar, and the page goes live', async () => {
    assert.equal(new URL(page.url()).pathname, '/dashboard/');
    assert.equal(new URL(page.url()).search, '');
    await page.waitForSelector('#status.live', { timeout: 10_000 });
  });

  test('the lane map shows where each lane goes for each service', async () => {
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { lanesDashboard: PageState }).lanesDashboard.firstMapMs !==
        undefined,
    );
    const cell = (service: string, lane: string) =>
      page.locator(`tr[data-service="${service}"] td[data-lane="${lane}"] .route`).textContent();
    assert.equal(await cell('default/mockb', 'dev-bob'), '1/1');
    assert.equal(await cell('default/mocka', 'dev-bob'), '→ v1');
    assert.equal(await cell('default/mockc', 'v1'), '1/1');
    assert.equal(await cell('default/mocka', ''), '→ v1');
    const fallback = page.locator('tr[data-service="default/mocka"] td[data-lane="dev-bob"]');
    assert.equal(await fallback.getAttribute('class'), 'fallback');
    await fallback.hover();
    const target = page.locator('tr[data-service="default/mocka"] td[data-lane="v1"]');
    assert.match((await target.getAttribute('class')) ?? '', /\btarget\b/);
  });

  test('the traffic numbers are what the test sent, from the metric counters', async () => {
    await page.waitForFunction(
      (sent) => {
        const t = (globalThis as unknown as { lanesDashboard: PageState }).lanesDashboard.traffic;
        return (t?.lanes.find((l) => l.lane === 'v1')?.total ?? 0) >= sent;
      },
      SENT,
      { timeout: 15_000 },
    );
    const t = (await pageState()).traffic!;
    assert.equal(t.lanes.find((l) => l.lane === 'v1')?.total, SENT, 'requests entering lane v1');
    const calls = (service: string) =>
      t.cells.find((c) => c.service === service && c.lane === 'v1')?.total;
    assert.equal(calls('default/mocka'), SENT);
    assert.equal(calls('default/mockb'), SENT);
    assert.equal(calls('default/mockc'), SENT);
    assert.equal(t.overridden, 1, "bob's request to mockb");
    assert.equal(
      await page.locator('#traffic tr[data-lane="v1"] td.total').textContent(),
      String(SENT),
    );
    assert.match(
      (await page
        .locator('tr[data-service="default/mockb"] td[data-lane="v1"] .rate')
        .getAttribute('title')) ?? '',
      new RegExp(`^${SENT} calls since the daemon started`),
    );
    await page.screenshot({ path: join(shots, 'dashboard-story.png'), fullPage: true });
  });

  test('recent requests list what the test sent, hop by hop, and a click shows one path', async () => {
    // Hops are one request only as far as the apps forward a trace header (the story's forward
    // only baggage): the rows that entered at the gateway are the requests the test sent.
    const atGateway = page.locator('#requests tbody tr', { hasText: 'GET 127.0.0.1:' });
    await atGateway.nth(SENT - 1).waitFor({ timeout: 15_000 });
    assert.equal(await atGateway.count(), SENT);
    const first = atGateway.first();
    assert.match((await first.textContent()) ?? '', /200GET /);
    await first.click();
    const detail = (await page.locator('#request-detail').textContent()) ?? '';
    assert.match(detail, /gateway istio-system\/ingressgateway/);
    assert.match(detail, /default\/mocka/);
  });

  test('a resource with a broken reference is red, with the file:line:col of the field', async () => {
    const row = page.locator('#resources tr.bad').first();
    assert.match(
      (await row.textContent()) ?? '',
      /VirtualService istio-system\/swimlane-ingress-vs-bob/,
    );
    assert.match(
      (await row.locator('.error').textContent()) ?? '',
      /ResolvedRefs=False \(SubsetNotFound\): bob-dev\.yaml:\d+:\d+ spec\.http\[0\]\.route\[0\]\.destination\.subset/,
    );
    const workloads = (await page.locator('#workloads').textContent()) ?? '';
    assert.match(workloads, /default\/mockb-dev-bob\s*dev\s*1\/1/);
  });

  test('a change of the mesh reaches the open page: bob deletes his lane', async () => {
    check(await cli('delete', 'asmswimlane', 'dev-bob'), 'delete lane dev-bob');
    await page
      .locator('td[data-lane="dev-bob"]')
      .first()
      .waitFor({ state: 'detached', timeout: 15_000 });
    const s = await pageState();
    await page.screenshot({ path: join(shots, 'dashboard-after-delete.png'), fullPage: true });
    process.stdout.write(
      `# dashboard screenshots in ${shots}; first map ${s.firstMapMs?.toFixed(0)} ms after navigation; last updates ${s.updateMs.map((m) => m.toFixed(1)).join(', ')} ms\n`,
    );
  });
});

if (missing) process.stdout.write(`# dashboard browser tests skipped: ${missing}\n`);
