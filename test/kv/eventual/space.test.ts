// An eventual space on a lone Cluster without Raft: local reads that say they are eventual,
// scans in key order with a continuation, prefix deletes, bounded watchers that end with a typed
// error when they fall behind, each limit's typed error, and no cas/txn/lease at all.
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '../../../index.js';
import {
  EventualKvCore,
  MAX_EVENTUAL_KEY_BYTES,
  MAX_EVENTUAL_VALUE_BYTES,
  MAX_EVENTUAL_WATCH_BACKLOG,
  MAX_EVENTUAL_WATCHERS,
} from '../../../kv/index.js';
import { actorOf } from '../../../crdt/index.js';
import { seededRandom } from '../../../runtime/index.js';
import { messagesOf, replica } from './replicas.js';

const started: Cluster[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

async function solo(): Promise<Cluster> {
  const c = await Cluster.start({ name: 'solo', logger: false });
  started.push(c);
  return c;
}

describe('an eventual space', () => {
  it('works without Raft, while the Raft KV refuses with ERR_BAD_CONFIG', async () => {
    const c = await solo();
    const s = c.kv.eventual('s');
    expect(s.get('k')).toEqual({ kv: null, consistency: 'eventual' });
    s.put('k', new Uint8Array([1, 2, 3]));
    expect(s.get('k').kv?.value).toEqual(new Uint8Array([1, 2, 3]));
    await expect(c.kv.space('raft').get('k')).rejects.toMatchObject({ code: 'ERR_BAD_CONFIG' });
    // Shapes an eventual space does not have are type errors, not methods that throw.
    // @ts-expect-error no cas on an eventual space
    expect(s.cas).toBeUndefined();
    // @ts-expect-error no txn on an eventual space
    expect(s.txn).toBeUndefined();
    // @ts-expect-error no leases on an eventual space
    expect(s.lease).toBeUndefined();
  });

  it('scans in key order with a continuation, and deletes by prefix', async () => {
    const s = (await solo()).kv.eventual('s');
    for (const k of ['b/2', 'a/1', 'b/1', 'b/3', 'c']) s.put(k, k);
    const first = s.scan({ prefix: 'b/', limit: 2 });
    expect(first.items.map((kv) => kv.key)).toEqual(['b/1', 'b/2']);
    expect(first.next).toBe('b/2');
    const rest = s.scan({ prefix: 'b/', after: first.next!, limit: 2 });
    expect(rest).toMatchObject({ items: [{ key: 'b/3' }], next: null, consistency: 'eventual' });
    expect(s.delete({ prefix: 'b/' })).toEqual({ deleted: 3 });
    expect(s.scan({ prefix: '' }).items.map((kv) => kv.key)).toEqual(['a/1', 'c']);
    expect(() => s.scan({ prefix: '', limit: 0 })).toThrow(expect.objectContaining({ code: 'ERR_KV_BAD_COMMAND' }));
  });

  it('refuses keys and values over their limits with typed errors', async () => {
    const s = (await solo()).kv.eventual('s');
    const code = (f: () => unknown): unknown => {
      try {
        f();
      } catch (error) {
        return (error as { code?: unknown }).code;
      }
      return 'no error';
    };
    expect(code(() => s.put('', 'v'))).toBe('ERR_KV_KEY_TOO_LARGE');
    expect(code(() => s.put('é'.repeat(MAX_EVENTUAL_KEY_BYTES / 2 + 1), 'v'))).toBe('ERR_KV_KEY_TOO_LARGE');
    expect(code(() => s.put('k', 'x'.repeat(MAX_EVENTUAL_VALUE_BYTES + 1)))).toBe('ERR_KV_VALUE_TOO_LARGE');
    expect(code(() => s.put('k', 'x'.repeat(MAX_EVENTUAL_VALUE_BYTES)))).toBe('no error');
  });

  it('bounds keys per space and writers per space (the tombstone bound) with typed errors', () => {
    const small = new EventualKvCore({ space: 's', actor: actorOf('a', 1), random: seededRandom(1), maxKeys: 2 });
    small.put('k1', 'v', 1);
    small.put('k2', 'v', 2);
    small.put('k1', 'again', 3); // an existing key is not a new one
    expect(() => small.put('k3', 'v', 4)).toThrow(expect.objectContaining({ code: 'ERR_KV_SPACE_FULL' }));
    // A space whose contexts already name maxActors writers refuses a new writer, and drops a
    // message that would add one (counted).
    const b = replica('b');
    b.put('x', 'from-b', 1);
    const full = new EventualKvCore({ space: 's', actor: actorOf('a', 1), random: seededRandom(1), maxActors: 1 });
    for (const m of messagesOf('b', b.flush(['a']))) full.receive('b', m.message);
    expect(full.get('x')?.value).toBe('from-b');
    expect(() => full.put('y', 'v', 5)).toThrow(expect.objectContaining({ code: 'ERR_KV_CONTEXT_FULL' }));
    const c = replica('c');
    c.put('z', 'from-c', 1);
    for (const m of messagesOf('c', c.flush(['a']))) full.receive('c', m.message);
    expect(full.get('z')).toBeNull();
    expect(full.counters.overLimitDropped).toBe(1);
  });

  it('counts and drops malformed gossip instead of throwing', () => {
    const core = replica('a');
    expect(core.receive('b', ['kv-d', 's', ['c#1'], [['k', [['v', 1]], [0, 1], []]]])).toEqual([]);
    expect(core.receive('b', { t: 'delta' })).toEqual([]);
    expect(core.counters.malformedDropped).toBe(2);
    expect(core.size).toBe(0);
  });

  it('watches a key or a prefix; a watcher that falls behind ends with ERR_KV_WATCH_BEHIND', async () => {
    const c = await solo();
    const s = c.kv.eventual('s');
    const one = s.watch({ key: 'k' });
    const prefix = s.watch({ prefix: 'p/' });
    s.put('k', '1');
    s.put('p/a', '2');
    s.delete('k');
    expect((await one.next()).value).toMatchObject({ type: 'put', key: 'k', kv: { value: '1' } });
    expect((await one.next()).value).toMatchObject({ type: 'delete', key: 'k' });
    expect((await prefix.next()).value).toMatchObject({ type: 'put', key: 'p/a' });
    await one[Symbol.asyncDispose]();
    prefix.close();
    const slow = s.watch({ prefix: '' });
    for (let i = 0; i <= MAX_EVENTUAL_WATCH_BACKLOG; i++) s.put(`n${i % 100}`, String(i));
    let delivered = 0;
    const failure = await (async () => {
      for await (const _ of slow) delivered++;
    })().catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'ERR_KV_WATCH_BEHIND' });
    expect(delivered).toBe(MAX_EVENTUAL_WATCH_BACKLOG);
  });

  it('holds at most MAX_EVENTUAL_WATCHERS watchers per node', async () => {
    const s = (await solo()).kv.eventual('s');
    const watches = Array.from({ length: MAX_EVENTUAL_WATCHERS }, () => s.watch({ key: 'k' }));
    expect(() => s.watch({ key: 'k' })).toThrow(expect.objectContaining({ code: 'ERR_KV_TOO_MANY_WATCHERS' }));
    watches[0]!.close();
    s.watch({ key: 'k' }).close();
    for (const w of watches) w.close();
  });
});
