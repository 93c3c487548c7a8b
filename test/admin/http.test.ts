// The admin HTTP server of a real Cluster (Raft host on LMDB, KV store) over real HTTP: health,
// the JSON views, KV with CAS, scans and watches, and every bad input answered with a typed 4xx.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../../index.js';
import { adminLimits } from '../../admin/index.js';

const TOKEN = 'admin-test-token-0123456789';
const root = mkdtempSync(join(tmpdir(), 'troupe-admin-http-'));
let cluster: Cluster;
let url: string;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  cluster = await Cluster.start({
    name: 'solo',
    logger: false,
    raft: { dataDir: join(root, 'solo'), voters: ['solo'] },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
  });
  await cluster.ready({ timeout: 10_000 });
  url = cluster.admin.url;
});
afterAll(async () => {
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
});

/** JSON bodies are read loosely: each test asserts the shape it expects. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

async function json(path: string, init: RequestInit = {}) {
  const r = await fetch(url + path, init);
  return { status: r.status, body: (await r.json()) as Loose, headers: r.headers };
}

describe('admin HTTP', () => {
  it('answers /livez and /readyz with 200 and the checks that passed', async () => {
    const live = await json('/livez');
    expect(live.status).toBe(200);
    expect(live.body.checks.eventLoop.ok).toBe(true);
    const ready = await json('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks['raft:kv']).toMatchObject({ ok: true });
  });

  it('shows the node, its members, its Raft groups, pg scopes and name counts as JSON', async () => {
    const status = await json('/v1/status');
    expect(status.body).toMatchObject({ node: 'solo', incarnation: cluster.node.incarnation, version: '0.1.0' });
    expect(status.body.members).toEqual([expect.objectContaining({ node: 'solo', state: 'up', self: true })]);
    const raft = await json('/v1/raft');
    expect(raft.body.groups).toEqual([
      expect.objectContaining({ id: 'kv', role: 'leader', leader: 'solo', voters: ['solo'], learners: [] }),
    ]);
    const pg = await json('/v1/pg');
    expect(pg.body.scopes[0].scope).toBe('default');
    const names = await json('/v1/names');
    expect(names.body.tiers).toEqual({ local: 0, eventual: 0 });
  });

  it('counts names per tier and looks one name up in every tier', async () => {
    const pid = cluster.node.spawn(async (ctx) => void (await ctx.receive()));
    cluster.eventual.register('svc', pid);
    cluster.node.register('local-svc', pid);
    expect((await json('/v1/names')).body.tiers).toEqual({ local: 1, eventual: 1 });
    expect((await json('/v1/names/svc')).body).toEqual({ name: 'svc', owners: { local: null, eventual: String(pid) } });
    expect((await json('/v1/names/local-svc')).body.owners).toEqual({ local: String(pid), eventual: null });
    cluster.node.exit(pid, 'kill');
    await expect
      .poll(async () => (await json('/v1/names')).body.tiers, { timeout: 5_000 })
      .toEqual({
        local: 0,
        eventual: 0,
      });
  });

  it('answers an unknown path 404 and a bad method 405, both with a typed JSON error', async () => {
    const missing = await json('/v2/nothing');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ERR_ADMIN_NOT_FOUND');
    const post = await json('/v1/status', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.body.error.code).toBe('ERR_ADMIN_METHOD');
    expect(post.headers.get('allow')).toBe('GET');
    const patch = await json('/v1/kv/s/k', { method: 'PATCH', headers: auth, body: 'x' });
    expect(patch.status).toBe(405);
  });

  it('puts, gets and deletes a key, and refuses a write without the right bearer token', async () => {
    expect((await json('/v1/kv/app/k1', { method: 'PUT', body: 'v1' })).status).toBe(401);
    const wrong = await json('/v1/kv/app/k1', { method: 'PUT', body: 'v1', headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('ERR_ADMIN_UNAUTHORIZED');
    const put = await json('/v1/kv/app/k1', { method: 'PUT', body: 'v1', headers: auth });
    expect(put.status).toBe(200);
    const got = await json('/v1/kv/app/k1');
    expect(got.body).toMatchObject({ key: 'k1', value: 'v1', modRevision: put.body.revision, version: 1 });
    const bytes = await json('/v1/kv/app/bin', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ value: Buffer.from([0, 1, 2]).toString('base64'), encoding: 'base64' }),
    });
    expect(bytes.status).toBe(200);
    expect((await json('/v1/kv/app/bin')).body).toMatchObject({ value: 'AAEC', encoding: 'base64' });
    expect((await json('/v1/kv/app/k1', { method: 'DELETE', headers: auth })).body.deleted).toBe(1);
    const gone = await json('/v1/kv/app/k1');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('ERR_ADMIN_NO_KEY');
  });

  it('writes with If-Match only at the expected mod revision (else 412), and creates with If-None-Match', async () => {
    const created = await json('/v1/kv/cas/k', {
      method: 'PUT',
      body: 'a',
      headers: { ...auth, 'if-none-match': '*' },
    });
    expect(created.status).toBe(200);
    const again = await json('/v1/kv/cas/k', { method: 'PUT', body: 'b', headers: { ...auth, 'if-none-match': '*' } });
    expect(again.status).toBe(412);
    const rev = created.body.revision as number;
    const stale = await json('/v1/kv/cas/k', {
      method: 'PUT',
      body: 'b',
      headers: { ...auth, 'if-match': `${rev + 5}` },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'ERR_ADMIN_CAS_FAILED', current: { value: 'a', modRevision: rev } });
    const ok = await json('/v1/kv/cas/k', { method: 'PUT', body: 'b', headers: { ...auth, 'if-match': `${rev}` } });
    expect(ok.status).toBe(200);
    const badDelete = await json('/v1/kv/cas/k', { method: 'DELETE', headers: { ...auth, 'if-match': `${rev}` } });
    expect(badDelete.status).toBe(412);
    const goodDelete = await json('/v1/kv/cas/k', {
      method: 'DELETE',
      headers: { ...auth, 'if-match': `${ok.body.revision}` },
    });
    expect(goodDelete.body.deleted).toBe(1);
  });

  it('scans a prefix a page at a time, following `next` at the same revision', async () => {
    for (const k of ['p/a', 'p/b', 'p/c', 'p/d', 'q/x'])
      expect((await json(`/v1/kv/scan/${k}`, { method: 'PUT', body: k, headers: auth })).status).toBe(200);
    const keys: string[] = [];
    let page = await json('/v1/kv/scan?prefix=p/&limit=3');
    keys.push(...page.body.items.map((i: { key: string }) => i.key));
    expect(page.body.next).not.toBeNull();
    page = await json(`/v1/kv/scan?prefix=p/&limit=3&after=${page.body.next}&revision=${page.body.revision}`);
    keys.push(...page.body.items.map((i: { key: string }) => i.key));
    expect(page.body.next).toBeNull();
    expect(keys).toEqual(['p/a', 'p/b', 'p/c', 'p/d']);
  });

  it('streams a watch as Server-Sent Events and disposes of the watcher when the client goes', async () => {
    const first = await json('/v1/kv/watched/w', { method: 'PUT', body: 'one', headers: auth });
    const before = cluster.kv.hub.watchers;
    const abort = new AbortController();
    const r = await fetch(`${url}/v1/kv/watched?watch&prefix=w&fromRevision=${first.body.revision}`, {
      signal: abort.signal,
    });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(cluster.kv.hub.watchers).toBe(before + 1);
    await json('/v1/kv/watched/w', { method: 'PUT', body: 'two', headers: auth });
    const reader = r.body!.getReader();
    let text = '';
    while ((text.match(/^event: put$/gm) ?? []).length < 2)
      text += new TextDecoder().decode((await reader.read()).value);
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { kv: { value: string } });
    expect(data.map((d) => d.kv.value)).toEqual(['one', 'two']);
    abort.abort();
    await expect.poll(() => cluster.kv.hub.watchers, { timeout: 5_000 }).toBe(before);
  });

  it('answers bad JSON, a bad revision, a bad query and an unknown space with typed 4xx errors', async () => {
    const badJson = await json('/v1/kv/app/j', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"value": ',
    });
    expect([badJson.status, badJson.body.error.code]).toEqual([400, 'ERR_ADMIN_BAD_JSON']);
    const wrongShape = await json('/v1/kv/app/j', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"value": 3}',
    });
    expect([wrongShape.status, wrongShape.body.error.code]).toEqual([400, 'ERR_ADMIN_BAD_JSON']);
    const badIfMatch = await json('/v1/kv/app/j', {
      method: 'PUT',
      body: 'x',
      headers: { ...auth, 'if-match': 'abc' },
    });
    expect([badIfMatch.status, badIfMatch.body.error.code]).toEqual([400, 'ERR_ADMIN_BAD_REVISION']);
    const badRevision = await json('/v1/kv/app/j?revision=-1');
    expect([badRevision.status, badRevision.body.error.code]).toEqual([400, 'ERR_ADMIN_BAD_REVISION']);
    const future = await json('/v1/kv/app/j?revision=999999');
    expect([future.status, future.body.error.code]).toEqual([400, 'ERR_KV_FUTURE_REVISION']);
    const badLimit = await json('/v1/kv/app?prefix=&limit=0');
    expect([badLimit.status, badLimit.body.error.code]).toEqual([400, 'ERR_ADMIN_BAD_REQUEST']);
    const badWatch = await json('/v1/kv/app?watch&fromRevision=x');
    expect([badWatch.status, badWatch.body.error.code]).toEqual([400, 'ERR_ADMIN_BAD_REVISION']);
    const unknown = await json('/v1/kv/never-written/k');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'ERR_KV_NO_SPACE']);
    const badEncoding = await json('/v1/kv/app/%E0%A4%A');
    expect([badEncoding.status, badEncoding.body.error.code]).toEqual([400, 'ERR_ADMIN_BAD_REQUEST']);
  });

  it('refuses a body over MAX_BODY_BYTES with 413, declared or streamed without a length', async () => {
    const big = Buffer.alloc(adminLimits.MAX_BODY_BYTES + 1, 0x61);
    const declared = await json('/v1/kv/app/big', { method: 'PUT', body: big, headers: auth });
    expect([declared.status, declared.body.error.code]).toEqual([413, 'ERR_ADMIN_TOO_LARGE']);
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${url}/v1/kv/app/big`, { method: 'PUT', headers: { ...auth } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 4; i++) req.write(Buffer.alloc(adminLimits.MAX_BODY_BYTES / 2, 0x61));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).error.code).toBe('ERR_ADMIN_TOO_LARGE');
  });

  it('refuses a request head over MAX_HEADER_BYTES with 431', async () => {
    const r = await fetch(`${url}/v1/status`, { headers: { 'x-big': 'a'.repeat(adminLimits.MAX_HEADER_BYTES + 1) } });
    expect(r.status).toBe(431);
  });

  it('holds at most MAX_CONNECTIONS connections: one more is closed at once, and it serves again after', async () => {
    const { host, port } = new URL(url);
    const sockets: Socket[] = [];
    let closedByServer = 0;
    await Promise.all(
      Array.from(
        { length: adminLimits.MAX_CONNECTIONS + 1 },
        () =>
          new Promise<void>((resolve) => {
            const s = connect(Number(port), host.replace(/^\[|\]$/g, ''));
            sockets.push(s);
            s.on('error', () => {});
            s.once('connect', () => resolve());
            s.once('close', () => {
              closedByServer++;
              resolve();
            });
          }),
      ),
    );
    await expect.poll(() => closedByServer, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    for (const s of sockets) s.destroy();
    await expect.poll(async () => (await fetch(`${url}/livez`)).status, { timeout: 5_000 }).toBe(200);
  });

  it('serves Prometheus text with troupe counters and histograms bucketed in seconds', async () => {
    await json('/v1/status');
    const r = await fetch(`${url}/metrics`);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toMatch(/^troupe_raft_turns(_total)?\{[^}]*node="solo"[^}]*\} [1-9]\d*$/m);
    expect(text).toMatch(/^troupe_raft_commit\{[^}]*group="kv"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^troupe_admin_request_duration_bucket\{[^}]*le="0\.001"[^}]*\} \d+$/m);
    expect(text).toMatch(/^troupe_raft_persist_duration_bucket\{[^}]*le="1"[^}]*\} \d+$/m);
  });
});
