// The dashboard as a person sees it, in headless Chromium (playwright-core driving the system's
// chromium): a 3-node cluster, the page of one node lists the three members up, names the Raft
// leader, shows a process group's member count change after joins, and shows a node down after
// it stopped. A screenshot goes to test-artifacts/. In CI (env CI set) a browser that cannot
// start fails the test; elsewhere the test skips and says why.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../../index.js';

const SECRET = 'dashboard-test-secret-0123456789';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const root = mkdtempSync(join(tmpdir(), 'troupe-dashboard-'));
/** Bound on every wait for the page to show something (it polls once a second). */
const SHOWN_MS = 10_000;
const nodes: Cluster[] = [];
let browser: Browser | null = null;
let noBrowser = '';

function chromiumPath(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given !== undefined && given !== '') return given;
  const found = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
  return found;
}

beforeAll(async () => {
  const executablePath = chromiumPath();
  try {
    if (executablePath === undefined) throw new Error('no chromium found (set CHROMIUM_PATH)');
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], timeout: 30_000 });
  } catch (error) {
    noBrowser = (error as Error).message.split('\n')[0]!;
    if (process.env.CI !== undefined && process.env.CI !== '') throw error;
    console.log(`dashboard browser test skipped: Chromium did not start (${noBrowser})`);
    return;
  }
  const voters = ['a', 'b', 'c'];
  let seed: string | undefined;
  for (const name of voters) {
    const c = await Cluster.start({
      name,
      secret: SECRET,
      listen: '127.0.0.1:0',
      logger: false,
      heartbeatIntervalMs: 100,
      downAfterMs: 800,
      ...(seed !== undefined ? { seeds: [seed] } : {}),
      raft: { dataDir: join(root, name), voters },
      admin: { listen: '127.0.0.1:0' },
    });
    seed ??= c.address!;
    nodes.push(c);
  }
  await Promise.all(nodes.map((n) => n.ready({ nodes: 3, timeout: 15_000 })));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(nodes.map((n) => n.stop()));
  rmSync(root, { recursive: true, force: true });
});

describe('the dashboard in a browser', () => {
  it('shows the members up, the Raft leader, pg member counts after joins, and a stopped node down', async (ctx) => {
    if (browser === null) return ctx.skip();
    const [a, b, c] = nodes as [Cluster, Cluster, Cluster];
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // /readyz answers 503 while a member is down: the browser logs that, and it is expected.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/readyz')) errors.push(`${m.text()} ${m.location().url}`);
    });
    await page.goto(a.admin.url + '/');

    // Three members, each shown up.
    await page.waitForFunction('document.querySelectorAll(\'#members tr[data-state="up"]\').length === 3', null, {
      timeout: SHOWN_MS,
    });
    const members = await page.$$eval('#members tbody tr', (rows) => rows.map((r) => r.getAttribute('data-node')));
    expect(members.sort()).toEqual(['a', 'b', 'c']);

    // The KV group's leader, named as the cluster knows it.
    const leader = await a.kv.group().then((g) => g.leader({ timeout: 5_000 }));
    const shown = `document.getElementById('raft-leader-kv')?.textContent === ${JSON.stringify(leader)}`;
    await page.waitForFunction(shown, null, { timeout: SHOWN_MS });

    // A group's member count as processes join it from two nodes.
    const countShown = (n: number) =>
      page.waitForSelector(`#pg tr[data-group="workers"][data-members="${n}"]`, { timeout: SHOWN_MS });
    b.pg.join(
      'workers',
      b.node.spawn(async (ctx) => void (await ctx.receive())),
    );
    await countShown(1);
    c.pg.join(
      'workers',
      c.node.spawn(async (ctx) => void (await ctx.receive())),
    );
    await countShown(2);

    // Node c stops: it is shown down, and the event is listed.
    await c.stop();
    await page.waitForSelector('#members tr[data-node="c"][data-state="down"]', { timeout: SHOWN_MS });
    await page.waitForSelector('#events li[data-event="down"][data-node="c"]', { timeout: SHOWN_MS });
    await countShown(1);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('serves its page, script and style from the package with a content security policy', async () => {
    if (nodes.length === 0) return;
    const r = await fetch(nodes[0]!.admin.url + '/');
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await r.text()).toMatch(/<script src="\/dashboard\.js" defer><\/script>/);
    expect((await fetch(nodes[0]!.admin.url + '/dashboard.js')).status).toBe(200);
    expect((await fetch(nodes[0]!.admin.url + '/dashboard.css')).status).toBe(200);
  });
});
