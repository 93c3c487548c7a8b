// Eventual spaces on real Clusters over loopback WebSockets, without Raft: a put on one node is
// seen on the others, a delete too, and a node that was away (stopped, then started again as a
// new incarnation) is repaired by anti-entropy when it comes back up.
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, type EventualKvSpace } from '../../../index.js';

const SECRET = 'kv-eventual-test-secret-0123456789';
const started: Cluster[] = [];

async function start(name: string, seeds: string[] = []): Promise<Cluster> {
  const c = await Cluster.start({ name, secret: SECRET, listen: '127.0.0.1:0', seeds, logger: false });
  started.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

/** Resolves once `space` shows `key` as `value` (null: absent), watching with a bound (no polling). */
async function seen(space: EventualKvSpace, key: string, value: string | null, ms = 10_000): Promise<void> {
  const shows = (): boolean => (space.get(key).kv?.value ?? null) === value;
  const watch = space.watch({ key }, { signal: AbortSignal.timeout(ms) });
  try {
    if (shows()) return;
    for await (const _ of watch) if (shows()) return;
  } finally {
    watch.close();
  }
  throw new Error(`${key} is not ${String(value)} after ${ms} ms: ${JSON.stringify(space.get(key))}`);
}

describe('eventual KV spaces on three clusters', () => {
  it('a put on one node is seen on the others, and a delete too', async () => {
    const a = await start('a');
    const b = await start('b', [a.address!]);
    const c = await start('c', [a.address!]);
    await Promise.all([a, b, c].map((n) => n.ready({ nodes: 3, timeout: 10_000 })));
    const [sa, sb, sc] = [a, b, c].map((n) => n.kv.eventual('config'));
    const written = sa!.put('color', 'blue');
    expect(written).toMatchObject({ value: 'blue', writer: expect.stringMatching(/^a#/), siblings: 1 });
    await Promise.all([seen(sb!, 'color', 'blue'), seen(sc!, 'color', 'blue')]);
    expect(sb!.get('color')).toMatchObject({ consistency: 'eventual', kv: { value: 'blue', stamp: written.stamp } });
    expect(sb!.delete('color')).toEqual({ deleted: 1 });
    await Promise.all([seen(sa!, 'color', null), seen(sc!, 'color', null)]);
    // The names registry shares the gossip class and still works beside it.
    const pid = c.node.spawn(async (ctx) => void (await ctx.receive()));
    c.eventual.register('svc', pid);
    const names = a.eventual.watch({ signal: AbortSignal.timeout(10_000) });
    if (a.eventual.whereis('svc') === undefined) for await (const e of names) if (e.name === 'svc') break;
    expect(a.eventual.whereis('svc')?.equals(pid)).toBe(true);
  });

  it('a node away during writes and deletes is repaired by anti-entropy once it is back', async () => {
    const a = await start('a');
    const b = await start('b', [a.address!]);
    const c = await start('c', [a.address!]);
    await Promise.all([a, b, c].map((n) => n.ready({ nodes: 3, timeout: 10_000 })));
    const sa = a.kv.eventual('s');
    for (let i = 0; i < 50; i++) sa.put(`k${String(i).padStart(2, '0')}`, `v${i}`);
    await seen(c.kv.eventual('s'), 'k49', 'v49');
    await c.stop();
    started.splice(started.indexOf(c), 1);
    // While c is away: new keys on a and on b, deletes on b.
    sa.put('late', 'from-a');
    const sb = b.kv.eventual('s');
    sb.put('k00', 'changed');
    expect(sb.delete({ prefix: 'k4' })).toEqual({ deleted: 10 });
    await seen(sa, 'k40', null);
    // c comes back as a new incarnation with an empty replica; its peers sync it on up.
    const c2 = await start('c', [a.address!]);
    await c2.ready({ nodes: 3, timeout: 10_000 });
    const sc = c2.kv.eventual('s');
    await Promise.all([seen(sc, 'late', 'from-a'), seen(sc, 'k00', 'changed'), seen(sc, 'k49', null)]);
    const page = sc.scan({ prefix: 'k', limit: 100 });
    expect(page.items.map((kv) => kv.key)).toEqual(sa.scan({ prefix: 'k', limit: 100 }).items.map((kv) => kv.key));
    expect(page.items).toHaveLength(40);
    // And c's writes reach the others again.
    sc.put('back', 'yes');
    await Promise.all([seen(sa, 'back', 'yes'), seen(sb, 'back', 'yes')]);
  });
});
