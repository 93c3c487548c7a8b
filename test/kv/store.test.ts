// The KV store as users meet it (`cluster.kv`): three nodes over real WebSocket connections with
// their Raft logs on LMDB. Writes and reads from any node, revisions as etcd has them, cas, txn,
// scans with a continuation, watches in revision order that resume and survive a leader change,
// leases that the leader expires, typed errors, and a recorded concurrent history that our
// checker finds linearizable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Cluster, type KvEvent, type KvWatch } from '../../index.js';
import { HistoryRecorder, checkOps, parseHistory } from '../../sim/check/index.js';

const SECRET = 'kv-store-test-secret-0123456789';
const root = mkdtempSync(join(tmpdir(), 'troupe-kv-'));
let started: Cluster[] = [];
afterEach(async () => {
  await Promise.all(started.map((c) => c.stop()));
  started = [];
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function threeNodes(run: string): Promise<Cluster[]> {
  const voters = ['a', 'b', 'c'];
  const nodes: Cluster[] = [];
  let seed: string | undefined;
  for (const name of voters) {
    const c = await Cluster.start({
      name,
      secret: SECRET,
      listen: '127.0.0.1:0',
      logger: false,
      ...(seed !== undefined ? { seeds: [seed] } : {}),
      raft: { dataDir: join(root, run, name), voters },
    });
    seed ??= c.address!;
    started.push(c);
    nodes.push(c);
  }
  await Promise.all(nodes.map((n) => n.ready({ nodes: 3, timeout: 20_000 })));
  return nodes;
}

/** Takes `n` events from a watch, bounded in time. */
async function take(watch: KvWatch, n: number, ms = 10_000): Promise<KvEvent[]> {
  const out: KvEvent[] = [];
  const timer = setTimeout(() => watch.close(), ms);
  for await (const e of watch) {
    out.push(e);
    if (out.length === n) break;
  }
  clearTimeout(timer);
  return out;
}

describe('cluster.kv', () => {
  it('puts, gets, deletes, cas and txn from any node, with revisions as etcd has them', async () => {
    const [a, b, c] = await threeNodes('basic');
    const sa = a!.kv.space('app');
    const sb = b!.kv.space('app');
    const p1 = await sa.put('k', 'v1');
    expect(p1).toMatchObject({ ok: true, prev: null });
    const p2 = await sb.put('k', 'v2');
    expect(p2.ok && p2.prev?.value).toBe('v1');
    const got = await c!.kv.space('app').get('k');
    expect(got.kv).toMatchObject({ value: 'v2', version: 2, createRevision: p1.revision, modRevision: p2.revision });
    expect(got.revision).toBe(p2.revision);

    expect(await sb.cas('k', { value: 'nope' }, 'x')).toMatchObject({ ok: false, current: { value: 'v2' } });
    expect(await sb.cas('k', { modRevision: p2.revision }, 'v3')).toMatchObject({ ok: true });
    expect(await sa.cas('new', { absent: true }, 'first')).toMatchObject({ ok: true });
    expect(await sa.cas('new', { absent: true }, 'second')).toMatchObject({ ok: false });
    expect(await sa.put('k', 'stale', { prevRevision: p1.revision })).toMatchObject({ ok: false });

    const t = await sa.txn({
      compare: [{ key: 'k', target: 'value', op: '==', against: 'v3' }],
      success: [
        { op: 'put', key: 'x/1', value: 'one' },
        { op: 'put', key: 'x/2', value: 'two' },
        { op: 'get', key: 'k' },
      ],
      failure: [{ op: 'put', key: 'failed', value: 'yes' }],
    });
    expect(t.succeeded).toBe(true);
    expect((await sb.get('x/2')).kv?.modRevision).toBe(t.revision); // one revision for the txn
    expect((await sb.get('failed')).kv).toBeNull();
    expect(await sb.delete({ prefix: 'x/' })).toMatchObject({ deleted: 2 });
    expect((await sa.get('x/1')).kv).toBeNull();
    // A local read is this replica as it is: never ahead of the cluster, and it says where it is.
    const local = await sa.get('k', { consistency: 'local' });
    expect(local.revision).toBeLessThanOrEqual((await sa.get('k')).revision);
    // A past revision stays readable.
    expect((await sa.get('k', { revision: p1.revision })).kv?.value).toBe('v1');
    // An untouched space is empty, not an error.
    expect(await a!.kv.space('nothing-here').get('k')).toEqual({ kv: null, revision: 0 });
  });

  it('scans in key order, page by page, at one revision', async () => {
    const [a, b] = await threeNodes('scan');
    const s = a!.kv.space('scan');
    for (let i = 0; i < 25; i++) await s.put(`item/${String(i).padStart(2, '0')}`, `v${i}`);
    await s.put('other', 'x');
    const keys: string[] = [];
    let after: string | undefined;
    let revision: number | undefined;
    for (;;) {
      const page = await b!.kv
        .space('scan')
        .scan(
          { prefix: 'item/', limit: 10, ...(after !== undefined ? { after } : {}) },
          { ...(revision !== undefined ? { revision } : {}) },
        );
      revision ??= page.revision;
      keys.push(...page.items.map((kv) => kv.key));
      if (page.next === null) break;
      after = page.next;
    }
    expect(keys).toEqual(Array.from({ length: 25 }, (_, i) => `item/${String(i).padStart(2, '0')}`));
  });

  it('watches a prefix in revision order, resumes from a revision, keeps order across a leader change', async () => {
    const nodes = await threeNodes('watch');
    const leaderOf = async () => {
      const g = await nodes[0]!.kv.group();
      return g.leader({ timeout: 10_000 });
    };
    const leader = await leaderOf();
    const follower = nodes.find((n) => n.name !== leader)!;
    const writer = nodes.find((n) => n.name !== leader && n !== follower)!;
    const watch = follower.kv.space('w').watch({ prefix: 'w/' });
    const first = await writer.kv.space('w').put('w/1', 'a');
    await writer.kv.space('w').put('other', 'ignored');
    await writer.kv.space('w').put('w/2', 'b');
    // The leader goes away; writes go on under the next one.
    const old = nodes.find((n) => n.name === leader)!;
    await old.stop();
    started = started.filter((c) => c !== old);
    // Write once the writer follows the next leader (a write in flight to the old one would be indeterminate).
    const writerGroup = await writer.kv.group();
    for (let waited = 0; [null, leader].includes(writerGroup.status().leader); waited += 20) {
      if (waited > 15_000) throw new Error('no new leader');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 3; i <= 6; i++) await writer.kv.space('w').put(`w/${i}`, `v${i}`, { timeout: 15_000 });
    const events = await take(watch, 6);
    expect(events.map((e) => e.key)).toEqual(['w/1', 'w/2', 'w/3', 'w/4', 'w/5', 'w/6']);
    const revisions = events.map((e) => e.revision);
    expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
    expect(new Set(revisions).size).toBe(revisions.length);
    // Resuming from the first revision replays everything from there, in the same order.
    const again = await take(writer.kv.space('w').watch({ prefix: 'w/' }, { fromRevision: first.revision }), 6);
    expect(again.map((e) => e.revision)).toEqual(revisions);
  }, 60_000);

  it('deletes the keys of a lease the leader expires, and keeps those of a lease kept alive', async () => {
    const [a, b] = await threeNodes('lease');
    const s = a!.kv.space('l');
    const short = await s.lease(1_000);
    const long = await b!.kv.space('l').lease(1_000);
    const put = await s.put('l/short', 'x', { lease: short.id });
    await s.put('l/long', 'y', { lease: long.id });
    // From after the put: b may not have applied it yet when the watch starts.
    const watch = b!.kv.space('l').watch({ key: 'l/short' }, { fromRevision: put.revision + 1 });
    const keeping = setInterval(() => void long.keepAlive().catch(() => {}), 300);
    try {
      const [gone] = await take(watch, 1, 15_000);
      expect(gone).toMatchObject({ type: 'delete', key: 'l/short' });
      expect((await b!.kv.space('l').get('l/long')).kv?.value).toBe('y');
    } finally {
      clearInterval(keeping);
    }
    await expect(short.keepAlive()).rejects.toMatchObject({ code: 'ERR_KV_NO_LEASE' });
    expect(await long.revoke()).toBe(1);
    expect((await s.get('l/long')).kv).toBeNull();
  }, 40_000);

  it('refuses what breaks a limit with a typed error, and writes nothing', async () => {
    const [a] = await threeNodes('limits');
    const kv = a!.kv;
    await kv.defineSpace('small', { maxValueBytes: 8, maxOpsPerTxn: 2 });
    const s = kv.space('small');
    await expect(s.put('k', 'far too long a value')).rejects.toMatchObject({ code: 'ERR_KV_VALUE_TOO_LARGE' });
    const ops = [1, 2, 3].map((i) => ({ op: 'put' as const, key: `k${i}`, value: 'v' }));
    await expect(s.txn({ compare: [], success: ops })).rejects.toMatchObject({ code: 'ERR_KV_TXN_TOO_LARGE' });
    expect((await s.scan({ prefix: '' })).items).toEqual([]);
    await expect(s.lease(1)).rejects.toMatchObject({ code: 'ERR_KV_BAD_COMMAND' });
    await s.put('k', 'ok');
    await expect(s.get('k', { revision: 999 })).rejects.toMatchObject({ code: 'ERR_KV_FUTURE_REVISION' });
  });

  it('records a concurrent history from every node that the checker finds linearizable', async () => {
    const nodes = await threeNodes('history');
    const t0 = process.hrtime.bigint();
    const rec = new HistoryRecorder({ now: () => Number(process.hrtime.bigint() - t0) });
    const keys = ['x', 'y', 'z'];
    await Promise.all(
      nodes.flatMap((node, n) =>
        [0, 1].map(async (lane) => {
          const client = `${node.name}${lane}`;
          const s = node.kv.space('h');
          for (let i = 0; i < 25; i++) {
            const key = keys[(i + n + lane) % keys.length]!;
            const kind = (i + lane) % 3;
            if (kind === 0) {
              const value = `${client}-${i}`;
              const op = rec.invoke(client, { op: 'put', key, value });
              await s.put(key, value).then(
                () => op.ok(),
                () => op.timeout(),
              );
            } else if (kind === 1) {
              const op = rec.invoke(client, { op: 'get', key });
              await s.get(key).then(
                (r) => op.ok({ read: r.kv === null ? null : String(r.kv.value) }),
                (e: { code?: string }) => op.fail(e.code ?? 'error'),
              );
            } else {
              const expectValue = `${client}-${i - 1}`;
              const value = `${client}-${i}-cas`;
              const op = rec.invoke(client, { op: 'cas', key, expect: expectValue, value });
              await s.cas(key, { value: expectValue }, value).then(
                (r) => op.ok({ ok: r.ok }),
                () => op.timeout(),
              );
            }
          }
        }),
      ),
    );
    const parsed = parseHistory(rec.text());
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const verdict = checkOps(parsed.ops);
    expect(verdict.verdict).toBe('linearizable');
  }, 60_000);
});
