// The peer protocol of the pg core: sync on node up, batched deltas, versions per sender
// incarnation (duplicates, gaps, late and unsynced messages), validation of every message,
// back-pressure resync, discover retries and anti-entropy.
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../runtime/codec.js';
import { Pid } from '../../runtime/pid.js';
import { PgScope, clampedBackoff } from '../../pg/index.js';
import type { PgMessage } from '../../pg/index.js';
import { Cluster, describeEvents, multiset } from './harness.js';

const twoNodes = (options?: ConstructorParameters<typeof Cluster>[1]): Cluster => {
  const cluster = new Cluster(['a', 'b'], options);
  cluster.settle();
  return cluster;
};

const waiting = (cluster: Cluster, from: string, to: string): PgMessage[] =>
  (cluster.queues.get(`${from}->${to}`) ?? []).map((b) => decode(b) as PgMessage);

describe('pg protocol: sync and deltas', () => {
  it('node up exchanges one discover and one sync each way', () => {
    const cluster = new Cluster(['a', 'b']);
    const p = cluster.spawn('a');
    cluster.on('a', (s) => s.join('g', p));
    // Before any delivery each side has asked the other for its memberships.
    expect(waiting(cluster, 'a', 'b').map((m) => m.t)).toEqual(['discover']);
    expect(waiting(cluster, 'b', 'a').map((m) => m.t)).toEqual(['discover']);
    cluster.settle();
    expect(cluster.scope('a').stats().syncsSent).toBe(1);
    expect(cluster.scope('b').stats().syncsSent).toBe(1);
    expect(cluster.scope('b').members('g')).toEqual([p]);
    // b synced with no groups: a still holds its entry, so discovery does not loop.
    cluster.tick(60_000);
    cluster.tick(60_000);
    cluster.settle();
    expect(cluster.scope('a').stats().discoversSent).toBe(1);
    expect(cluster.scope('a').peers()).toMatchObject([{ node: 'b', synced: true }]);
  });

  it('events can be taken without flushing peer sends, so deltas batch across calls', () => {
    const cluster = twoNodes();
    const scope = cluster.scope('a');
    const { ref } = scope.monitor('g');
    const [p, q] = [cluster.spawn('a'), cluster.spawn('a')];
    scope.join('g', p);
    expect(scope.takeReadyMonitors()).toEqual([ref]);
    expect(scope.takeEvents(ref)).toHaveLength(1);
    scope.join('g', q);
    expect(scope.takeReadyMonitors()).toEqual([ref]);
    scope.takeEvents(ref);
    const { sends, readyMonitors } = scope.takeOutputs();
    expect(readyMonitors).toEqual([]);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.message.t === 'delta' && sends[0].message.ops.length).toBe(2);
  });

  it('converges when one side learns of the other long before the other side does', () => {
    const cluster = new Cluster(['a', 'b']);
    cluster.disconnect('a', 'b');
    const p = cluster.spawn('b');
    cluster.on('b', (s) => s.join('g', p));
    // Only a knows b is up; b drops a's discover (a is not up for b yet).
    cluster.connected.add('a|b');
    cluster.on('a', (s) => s.peerUp('b', 1));
    cluster.settle();
    expect(cluster.scope('b').stats().droppedNotUp).toBe(1);
    cluster.on('b', (s) => s.peerUp('a', 1));
    cluster.settle();
    expect(cluster.scope('a').members('g')).toEqual([p]);
    const q = cluster.spawn('a');
    cluster.on('a', (s) => s.join('h', q));
    cluster.settle();
    expect(cluster.scope('b').members('h')).toEqual([q]);
  });

  it('batches deltas: one packet per peer per flush, however many groups changed', () => {
    const cluster = new Cluster(['a', 'b', 'c']);
    cluster.settle();
    const pids = Array.from({ length: 50 }, () => cluster.spawn('a'));
    const scope = cluster.scope('a');
    pids.forEach((p, i) => scope.join(`g${i}`, p));
    scope.leave('g0', pids[0] as Pid);
    const { sends } = scope.takeOutputs();
    expect(sends.map((s) => [s.to, s.message.t])).toEqual([
      ['b', 'delta'],
      ['c', 'delta'],
    ]);
    const delta = sends[0]?.message;
    expect(delta?.t === 'delta' && delta.ops.length).toBe(51);
  });

  it('splits a flush longer than maxOpsPerDeltaMessage into consecutive deltas that apply in order', () => {
    const cluster = twoNodes({ limits: { maxOpsPerDeltaMessage: 4 } });
    const pids = Array.from({ length: 10 }, () => cluster.spawn('a'));
    for (const p of pids) cluster.scope('a').join('g', p);
    cluster.drain('a');
    const deltas = waiting(cluster, 'a', 'b');
    expect(deltas.map((m) => (m.t === 'delta' ? m.ops.length : 0))).toEqual([4, 4, 2]);
    cluster.settle();
    expect(cluster.scope('b').members('g')).toEqual(cluster.scope('a').members('g'));
  });

  it('deltas continue from the version of the last sync: no gap, no resync on a healthy link', () => {
    const cluster = twoNodes();
    const pids = Array.from({ length: 5 }, () => cluster.spawn('a'));
    for (const p of pids) {
      cluster.on('a', (s) => s.join('g', p));
      cluster.tick(cluster.scope('a').timings.antiEntropyIntervalMs); // a full sync between deltas
      cluster.on('a', (s) => s.join('h', p));
      cluster.settle();
    }
    const b = cluster.scope('b').stats();
    expect(b.droppedGap + b.droppedDuplicate + b.droppedUnsynced + b.droppedStaleSync).toBe(0);
    expect(cluster.scope('a').stats().discoversSent).toBe(1);
    expect(cluster.scope('b').peers()).toEqual([
      { node: 'a', incarnation: 1, synced: true, version: cluster.scope('a').version },
    ]);
    expect(cluster.scope('b').members('h')).toEqual(cluster.scope('a').members('h'));
  });

  it('drops a duplicate delta without changing the view', () => {
    const cluster = twoNodes();
    const p = cluster.spawn('a');
    cluster.on('a', (s) => s.join('g', p));
    const [delta] = cluster.queues.get('a->b') ?? [];
    cluster.settle();
    cluster.inject('a', 'b', delta);
    expect(cluster.scope('b').stats().droppedDuplicate).toBe(1);
    expect(cluster.scope('b').members('g')).toEqual([p]);
  });

  it('drops a delta from a node whose sync has not been applied', () => {
    const cluster = new Cluster(['a', 'b']);
    const p = cluster.spawn('a');
    cluster.scope('b').peerUp('a', 1);
    cluster.inject('a', 'b', {
      t: 'delta',
      scope: 'default',
      inc: 1,
      toInc: 1,
      base: 0,
      version: 1,
      ops: [['j', 'g', [p]]],
    });
    expect(cluster.scope('b').stats().droppedUnsynced).toBe(1);
    expect(cluster.scope('b').members('g')).toEqual([]);
  });

  it('drops late messages after node down and messages of an old incarnation', () => {
    const cluster = twoNodes();
    const p = cluster.spawn('a');
    cluster.on('a', (s) => s.join('g', p));
    const [delta] = cluster.queues.get('a->b') ?? [];
    cluster.settle();
    const syncBytes = cluster.history.get('a->b')?.find((b) => (decode(b) as PgMessage).t === 'sync');
    cluster.disconnect('a', 'b');
    cluster.inject('a', 'b', delta);
    cluster.inject('a', 'b', syncBytes);
    expect(cluster.scope('b').members('g')).toEqual([]);
    expect(cluster.scope('b').stats().droppedNotUp).toBe(2);
    // a restarts: b knows incarnation 2; a message of incarnation 1 is stale.
    cluster.restart('a', true);
    cluster.settle();
    cluster.inject('a', 'b', delta);
    expect(cluster.scope('b').stats().droppedNotUp).toBe(3);
    expect(cluster.scope('b').members('g')).toEqual([]);
  });

  it('a stale sync (older version than one applied) is dropped', () => {
    const cluster = twoNodes();
    const p = cluster.spawn('a');
    const oldSync = cluster.history.get('a->b')?.find((b) => (decode(b) as PgMessage).t === 'sync');
    cluster.on('a', (s) => s.join('g', p));
    cluster.tick(cluster.scope('a').timings.antiEntropyIntervalMs);
    cluster.settle();
    cluster.inject('a', 'b', oldSync);
    expect(cluster.scope('b').stats().droppedStaleSync).toBe(1);
    expect(cluster.scope('b').members('g')).toEqual([p]);
  });

  it('a gap (lost delta) is detected, the delta dropped, and a resync repairs the view', () => {
    const cluster = twoNodes();
    const [p, q] = [cluster.spawn('a'), cluster.spawn('a')];
    cluster.on('a', (s) => s.join('g', p));
    cluster.queues.set('a->b', []); // the first delta is lost
    cluster.on('a', (s) => s.join('g', q));
    const monitor = cluster.monitorScope('b');
    cluster.settle();
    expect(cluster.scope('b').stats().droppedGap).toBe(1);
    expect(cluster.scope('b').members('g')).toEqual([q, p]);
    // The repair is differential: one join with both pids, nothing spurious.
    expect(describeEvents(monitor.events)).toEqual([`join g [${q.toString()},${p.toString()}]`]);
  });

  it('a leave of a member the view lacks is counted and triggers a resync', () => {
    const cluster = twoNodes();
    const p = cluster.spawn('a');
    cluster
      .scope('b')
      .receive('a', { t: 'delta', scope: 'default', inc: 1, toInc: 1, base: 0, version: 1, ops: [['l', 'g', [p]]] });
    expect(cluster.scope('b').stats().inconsistentRemoteOps).toBe(1);
    cluster.settle();
    expect(cluster.scope('b').members('g')).toEqual([]);
  });

  it('anti-entropy sends one digest per interval, to one peer at a time in turn, and repairs a silent loss', () => {
    const cluster = new Cluster(['a', 'b', 'c']);
    cluster.settle();
    const p = cluster.spawn('a');
    cluster.on('a', (s) => s.join('g', p));
    cluster.queues.set('a->b', []); // lost, and no later delta reveals the gap
    cluster.settle();
    expect(cluster.scope('b').members('g')).toEqual([]);
    const interval = cluster.scope('a').timings.antiEntropyIntervalMs;
    const targets: string[] = [];
    for (let round = 0; round < 4; round++) {
      cluster.now += interval;
      cluster.scope('a').tick(cluster.now);
      const { sends } = cluster.scope('a').takeOutputs();
      expect(sends.length).toBe(1);
      expect(sends[0]?.message.t).toBe('digest');
      targets.push(sends[0]?.to as string);
      for (const s of sends) cluster.on(s.to, (scope) => scope.receive('a', decode(encode(s.message))));
    }
    expect(targets).toEqual(['b', 'c', 'b', 'c']);
    // b's view did not match a's digest: it asked again, and the resync repairs it.
    expect(cluster.scope('b').stats().digestMismatches).toBe(1);
    expect(cluster.scope('c').stats().digestsInSync).toBe(2);
    cluster.settle();
    expect(cluster.scope('b').members('g')).toEqual([p]);
  });

  it('a steady cluster exchanges digests only: no sync, and a few dozen bytes per round', () => {
    const cluster = new Cluster(['a', 'b', 'c']);
    cluster.settle();
    for (const n of ['a', 'b', 'c']) {
      const pids = Array.from({ length: 200 }, () => cluster.spawn(n));
      cluster.on(n, (s) => s.join(['g', 'h', `only-${n}`], pids));
    }
    cluster.settle();
    const sent = (): number[] => ['a', 'b', 'c'].map((n) => cluster.scope(n).stats().syncsSent);
    const syncsBefore = sent();
    // What one anti-entropy round cost before: a full sync (here a's latest resync, built on demand).
    cluster.inject('b', 'a', { t: 'discover', scope: 'default', inc: 1, toInc: 1 });
    const syncBytes = (cluster.queues.get('a->b') ?? []).reduce((n, b) => n + b.length, 0);
    cluster.settle();
    syncsBefore[0]! += 1;
    const seen: { t: string; bytes: number }[] = [];
    const interval = cluster.scope('a').timings.antiEntropyIntervalMs;
    for (let round = 0; round < 10; round++) {
      cluster.tick(interval);
      for (const queue of cluster.queues.values())
        for (const bytes of queue) seen.push({ t: (decode(bytes) as PgMessage).t, bytes: bytes.length });
      cluster.settle();
    }
    expect(sent()).toEqual(syncsBefore);
    expect(new Set(seen.map((m) => m.t))).toEqual(new Set(['digest']));
    expect(seen.length).toBe(30); // one digest per node per round
    expect(Math.max(...seen.map((m) => m.bytes))).toBeLessThan(80);
    for (const n of ['a', 'b', 'c']) {
      expect(cluster.scope(n).stats().digestsInSync).toBe(10);
      expect(cluster.scope(n).stats().digestMismatches).toBe(0);
    }
    expect(syncBytes).toBeGreaterThan(20 * Math.max(...seen.map((m) => m.bytes)));
  });

  it('a lost discover is re-sent after a clamped backoff until the sync arrives', () => {
    const cluster = new Cluster(['a', 'b'], { timings: { discoverRetryMs: 100, discoverRetryMaxMs: 400 } });
    const p = cluster.spawn('b');
    cluster.on('b', (s) => s.join('g', p));
    // Both discovers are lost (a single lost one heals at once: the sync answering the other
    // discover is itself answered with a sync).
    cluster.queues.set('a->b', []);
    cluster.queues.set('b->a', []);
    cluster.settle();
    expect(cluster.scope('a').members('g')).toEqual([]);
    const sentAt = (): number => cluster.scope('a').stats().discoversSent;
    const before = sentAt();
    cluster.tick(99);
    expect(sentAt()).toBe(before);
    cluster.tick(1);
    expect(sentAt()).toBe(before + 1);
    cluster.settle();
    expect(cluster.scope('a').members('g')).toEqual([p]);
  });

  it('backoff doubles and is clamped for any attempt count', () => {
    expect(clampedBackoff(100, 30_000, 0)).toBe(100);
    expect(clampedBackoff(100, 30_000, 3)).toBe(800);
    expect(clampedBackoff(100, 30_000, 10)).toBe(30_000);
    expect(clampedBackoff(100, 30_000, 5_000)).toBe(30_000);
    expect(Number.isFinite(clampedBackoff(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))).toBe(true);
  });

  it('a new incarnation announced by peerUp alone replaces the old one (down, then up)', () => {
    const cluster = twoNodes();
    const p = cluster.spawn('b');
    cluster.on('b', (s) => s.join('g', p));
    cluster.settle();
    const monitor = cluster.monitorScope('a');
    cluster.restart('b', false);
    cluster.settle();
    expect(cluster.scope('a').members('g')).toEqual([]);
    expect(describeEvents(monitor.events)).toEqual([`leave g [${p.toString()}]`]);
    expect(cluster.scope('a').peers()).toMatchObject([{ node: 'b', incarnation: 2, synced: true }]);
  });
});

describe('pg protocol: message size', () => {
  const small = { limits: { maxMessageBytes: 700 } };

  it('a sync larger than maxMessageBytes goes in parts and applies as one (one join per group)', () => {
    const cluster = new Cluster(['a', 'b'], small);
    cluster.disconnect('a', 'b');
    const pids = Array.from({ length: 40 }, () => cluster.spawn('a'));
    for (let i = 0; i < pids.length; i += 4) cluster.on('a', (s) => s.join(['big', `g${i}`], pids.slice(i, i + 4)));
    const monitor = cluster.monitorScope('b');
    cluster.connect('a', 'b');
    cluster.deliverOne('b', 'a'); // b's discover: a answers with its sync
    const parts = waiting(cluster, 'a', 'b').filter((m) => m.t === 'sync');
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.map((m) => (m.t === 'sync' ? [m.part, m.last] : []))).toEqual(
      parts.map((_, i) => [i, i === parts.length - 1]),
    );
    for (const bytes of cluster.queues.get('a->b') ?? []) expect(bytes.length).toBeLessThanOrEqual(700);
    cluster.settle();
    expect(cluster.scope('b').members('big')).toEqual(cluster.scope('a').members('big'));
    const bigEvents = monitor.events.filter((e) => e.kind === 'join' && e.group === 'big');
    expect(bigEvents.length).toBe(1);
    cluster.expectMonitorsReplay();
  });

  it('a lost sync part is detected, the partial sync discarded, and a new sync completes', () => {
    const cluster = new Cluster(['a', 'b'], small);
    cluster.disconnect('a', 'b');
    const pids = Array.from({ length: 90 }, () => cluster.spawn('a'));
    for (let i = 0; i < 90; i += 15) cluster.on('a', (s) => s.join('big', pids.slice(i, i + 15)));
    cluster.connect('a', 'b');
    cluster.deliverOne('b', 'a');
    const queue = cluster.queues.get('a->b') as Buffer[];
    expect(queue.filter((b) => (decode(b) as PgMessage).t === 'sync').length).toBeGreaterThan(2);
    const partIndex = queue.findIndex((b) => {
      const m = decode(b) as PgMessage;
      return m.t === 'sync' && m.part === 1;
    });
    expect(partIndex).toBeGreaterThan(0);
    queue.splice(partIndex, 1);
    cluster.settle();
    expect(cluster.scope('b').stats().droppedSyncPart).toBeGreaterThan(0);
    expect(cluster.scope('b').members('big')).toEqual(cluster.scope('a').members('big'));
  });

  it('deltas are cut under maxMessageBytes, and an op that cannot fit one message is refused', () => {
    const cluster = new Cluster(['a', 'b'], small);
    cluster.settle();
    const pids = Array.from({ length: 40 }, () => cluster.spawn('a'));
    for (let i = 0; i < 40; i += 5) cluster.scope('a').join(`g${i}`, pids.slice(i, i + 5));
    cluster.drain('a');
    const deltas = cluster.queues.get('a->b') ?? [];
    expect(deltas.length).toBeGreaterThan(1);
    for (const bytes of deltas) expect(bytes.length).toBeLessThanOrEqual(700);
    cluster.settle();
    expect(multiset(cluster.scope('b').members('g5'))).toEqual(multiset(pids.slice(5, 10)));
    let caught: unknown;
    try {
      cluster.on('a', (s) => s.join('g', pids));
    } catch (err) {
      caught = err;
    }
    expect((caught as { limit?: string }).limit).toBe('maxMessageBytes');
    expect(() => cluster.on('a', (s) => s.leave('g0', pids))).toThrow(/maxMessageBytes/);
    expect(cluster.scope('a').members('g')).toEqual([]);
  });

  it('a sync part with a bad part number or flag is malformed', () => {
    const cluster = twoNodes();
    const p = cluster.spawn('a');
    const base = { t: 'sync', scope: 'default', inc: 1, toInc: 1, version: 9, groups: [['g', [p]]] };
    cluster.scope('b').receive('a', { ...base, part: -1, last: true });
    cluster.scope('b').receive('a', { ...base, part: 0, last: 'yes' });
    cluster.scope('b').receive('a', { ...base, part: 0 });
    expect(cluster.scope('b').stats().droppedMalformed).toBe(3);
    // A part that does not follow a part 0 of the same version is out of sequence.
    cluster.scope('b').receive('a', { ...base, part: 1, last: true });
    expect(cluster.scope('b').stats().droppedSyncPart).toBeGreaterThan(0);
    expect(cluster.scope('b').members('g')).toEqual([]);
  });
});

describe('pg protocol: back-pressure', () => {
  it('a full pg queue marks the peer for a full resync once room returns, and it converges', () => {
    const cluster = twoNodes({ queueCapacity: 2 });
    const pids = Array.from({ length: 6 }, () => cluster.spawn('a'));
    const monitor = cluster.monitorScope('b');
    // Six flushes, six deltas for a queue of two: the third fails.
    for (const p of pids) cluster.on('a', (s) => s.join('g', p));
    expect(cluster.scope('a').stats().peerQueueFull).toBe(1);
    expect(cluster.blocked.has('a->b')).toBe(true);
    cluster.on('a', (s) => s.leave('g', pids[0] as Pid));
    cluster.settle();
    expect(cluster.blocked.has('a->b')).toBe(false);
    expect(cluster.scope('b').members('g')).toEqual(cluster.scope('a').members('g'));
    expect(cluster.scope('a').stats().syncsSent).toBeGreaterThanOrEqual(2);
    // Differential: each pid joined once in the events; the one that left, left once; no leave+join pairs.
    const events = describeEvents(monitor.events);
    expect(events.filter((e) => e.startsWith('leave'))).toEqual([`leave g [${(pids[0] as Pid).toString()}]`]);
    expect(multiset(monitor.events.flatMap((e) => (e.kind === 'join' ? e.pids : [])))).toEqual(multiset(pids));
    cluster.expectMonitorsReplay();
  });

  it('a blocked peer that never reports room is retried on tick with a clamped backoff', () => {
    const cluster = twoNodes({ timings: { blockedRetryMs: 50, blockedRetryMaxMs: 200 } });
    const p = cluster.spawn('a');
    const scope = cluster.scope('a');
    scope.peerQueueFull('b');
    scope.join('g', p);
    expect(scope.takeOutputs().sends).toEqual([]);
    scope.tick(cluster.now + 49);
    expect(scope.takeOutputs().sends).toEqual([]);
    scope.tick(cluster.now + 50);
    const { sends } = scope.takeOutputs();
    expect(sends.map((s) => s.message.t)).toEqual(['sync']);
    // Full again: next wait doubles, then is clamped.
    scope.peerQueueFull('b');
    scope.tick(cluster.now + 50 + 99);
    expect(scope.takeOutputs().sends).toEqual([]);
    scope.tick(cluster.now + 50 + 100);
    expect(scope.takeOutputs().sends.map((s) => s.message.t)).toEqual(['sync']);
    for (let i = 0; i < 40; i++) scope.peerQueueFull('b');
    scope.tick(cluster.now + 150 + 200);
    expect(scope.takeOutputs().sends.map((s) => s.message.t)).toEqual(['sync']);
  });

  it('an unflushed backlog past maxPendingDeltaOps turns into a full resync, nothing lost', () => {
    const cluster = twoNodes({ limits: { maxPendingDeltaOps: 5 } });
    const scope = cluster.scope('a');
    const pids = Array.from({ length: 12 }, () => cluster.spawn('a'));
    for (const p of pids) scope.join('g', p);
    expect(scope.stats().pendingLogOverflows).toBe(1);
    cluster.settle();
    expect(cluster.scope('b').members('g')).toEqual(scope.members('g'));
  });
});

describe('pg protocol: validation', () => {
  const good = (p: Pid): Record<string, unknown> => ({
    t: 'sync',
    scope: 'default',
    inc: 1,
    toInc: 1,
    version: 3,
    part: 0,
    last: true,
    groups: [['g', [p]]],
  });

  it('counts and drops every malformed message without throwing or changing the view', () => {
    const cluster = twoNodes();
    const p = cluster.spawn('a');
    const foreign = new Pid('c', 1, 1);
    const wrongIncarnation = new Pid('a', 1, 9);
    const bad: unknown[] = [
      null,
      42,
      'sync',
      [],
      {},
      { ...good(p), t: 'nope' },
      { ...good(p), scope: 7 },
      { ...good(p), inc: -1 },
      { ...good(p), toInc: 1.5 },
      { ...good(p), version: 'x' },
      { ...good(p), groups: 'g' },
      { ...good(p), groups: [['g']] },
      { ...good(p), groups: [[1, [p]]] },
      { ...good(p), groups: [['g', []]] },
      { ...good(p), groups: [['g', ['<a.1.1>']]] },
      { ...good(p), groups: [['g', [foreign]]] },
      { ...good(p), groups: [['g', [wrongIncarnation]]] },
      {
        ...good(p),
        groups: [
          ['g', [p]],
          ['g', [p]],
        ],
      },
      { ...good(p), groups: [['x'.repeat(5_000), [p]]] },
      { t: 'delta', scope: 'default', inc: 1, toInc: 1, base: 0, version: 2, ops: [['j', 'g', [p]]] },
      { t: 'delta', scope: 'default', inc: 1, toInc: 1, base: 0, version: 0, ops: [] },
      { t: 'delta', scope: 'default', inc: 1, toInc: 1, base: 0, version: 1, ops: [['x', 'g', [p]]] },
      { t: 'delta', scope: 'default', inc: 1, toInc: 1, base: 0, version: 1, ops: [['j', 'g', [foreign]]] },
      { t: 'delta', scope: 'default', inc: 1, toInc: 1, base: 0, version: 1, ops: ['j'] },
    ];
    const before = cluster.scope('b').version;
    for (const value of bad) expect(() => cluster.scope('b').receive('a', value)).not.toThrow();
    expect(cluster.scope('b').stats().droppedMalformed).toBe(bad.length);
    expect(cluster.scope('b').whichGroups()).toEqual([]);
    expect(cluster.scope('b').version).toBe(before);
    // The same message, well formed, is accepted.
    cluster.scope('b').receive('a', good(p));
    expect(cluster.scope('b').members('g')).toEqual([p]);
  });

  it('a message for another scope or another incarnation of this node is misrouted', () => {
    const cluster = twoNodes();
    const p = cluster.spawn('a');
    cluster.scope('b').receive('a', { ...good(p), scope: 'other' });
    cluster.scope('b').receive('a', { ...good(p), toInc: 2 });
    expect(cluster.scope('b').stats().droppedMisrouted).toBe(2);
    expect(cluster.scope('b').members('g')).toEqual([]);
  });

  it('a message claiming to come from an unknown node is dropped', () => {
    const scope = new PgScope({ scope: 'default', node: 'b', incarnation: 1 });
    scope.receive('a', { t: 'discover', scope: 'default', inc: 1, toInc: 1 });
    expect(scope.stats().droppedNotUp).toBe(1);
    expect(scope.takeOutputs().sends).toEqual([]);
  });
});
