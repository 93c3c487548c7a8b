// The watch hub on its own: events in order per watcher, a bounded backlog that ends a slow
// watcher with the revision to resume from (whole revisions only), resumes from retained
// events, compacted start points, the per-node bound, and a snapshot restore ending watchers.
import { describe, expect, it } from 'vitest';
import { WatchHub, MAX_WATCHER_BACKLOG, MAX_WATCHERS_PER_NODE, type KvEvent } from '../../kv/index.js';

const ev = (revision: number, key = 'k', space = 's'): KvEvent => ({ space, type: 'put', key, revision, kv: null });

async function drain(watch: AsyncIterable<KvEvent>): Promise<{ events: KvEvent[]; error: unknown }> {
  const events: KvEvent[] = [];
  try {
    for await (const e of watch) events.push(e);
  } catch (error) {
    return { events, error };
  }
  return { events, error: null };
}

describe('WatchHub', () => {
  it('delivers matching events in order, from the next revision', async () => {
    const hub = new WatchHub();
    hub.publish([ev(1)]);
    const w = hub.watch('s', { prefix: 'a/' }, 1);
    hub.publish([ev(2, 'a/1'), ev(3, 'b/1'), ev(4, 'a/2', 'other'), ev(5, 'a/3')]);
    w.close();
    const { events } = await drain(w);
    expect(events).toEqual([]); // close drops what was queued
    const v = hub.watch('s', { key: 'a/1' }, 5, { fromRevision: 2 });
    const first = await v.next();
    expect(first.value).toEqual(ev(2, 'a/1'));
    await v.return!();
  });

  it('ends a watcher that stops reading with ERR_KV_WATCH_BEHIND, keeping whole revisions', async () => {
    const hub = new WatchHub();
    const w = hub.watch('s', { prefix: '' }, 0);
    for (let r = 1; r < MAX_WATCHER_BACKLOG; r++) hub.publish([ev(r)]);
    // One revision of three events that does not fit: none of it is queued.
    hub.publish([ev(MAX_WATCHER_BACKLOG, 'x'), ev(MAX_WATCHER_BACKLOG, 'y'), ev(MAX_WATCHER_BACKLOG, 'z')]);
    const { events, error } = await drain(w);
    expect(events.length).toBe(MAX_WATCHER_BACKLOG - 1);
    expect(error).toMatchObject({ code: 'ERR_KV_WATCH_BEHIND', resumeRevision: MAX_WATCHER_BACKLOG });
    expect(hub.counters.watchersBehind).toBe(1);
    const resumed = hub.watch('s', { prefix: '' }, MAX_WATCHER_BACKLOG, { fromRevision: MAX_WATCHER_BACKLOG });
    hub.close();
    expect((await drain(resumed)).events.map((e) => e.key)).toEqual(['x', 'y', 'z']);
  });

  it('refuses a start point it no longer holds events for, and past the watcher bound', () => {
    const hub = new WatchHub();
    hub.reset(new Map([['s', 10]]));
    expect(() => hub.watch('s', { key: 'k' }, 10, { fromRevision: 5 })).toThrow(
      expect.objectContaining({ code: 'ERR_KV_COMPACTED', compactRevision: 10 }),
    );
    expect(() => hub.watch('s', { key: 'k' }, 10, { fromRevision: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_KV_BAD_COMMAND' }),
    );
    for (let i = 0; i < MAX_WATCHERS_PER_NODE; i++) hub.watch('s', { key: `k${i}` }, 10);
    expect(() => hub.watch('s', { key: 'one-more' }, 10)).toThrow(
      expect.objectContaining({ code: 'ERR_KV_TOO_MANY_WATCHERS' }),
    );
    hub.close();
    expect(hub.watchers).toBe(0);
  });

  it('a restore from a snapshot ends every watcher at the revision after its last event', async () => {
    const hub = new WatchHub();
    const w = hub.watch('s', { prefix: '' }, 0);
    hub.publish([ev(1), ev(2)]);
    hub.reset(new Map([['s', 40]]));
    const { events, error } = await drain(w);
    expect(events.map((e) => e.revision)).toEqual([1, 2]);
    expect(error).toMatchObject({ code: 'ERR_KV_WATCH_BEHIND', resumeRevision: 3 });
  });

  it('an aborted signal ends the watch', async () => {
    const hub = new WatchHub();
    const abort = new AbortController();
    const w = hub.watch('s', { key: 'k' }, 0, { signal: abort.signal });
    abort.abort();
    expect(await drain(w)).toEqual({ events: [], error: null });
    expect(hub.watchers).toBe(0);
  });
});
