// Issue 11, defect 5: the memberships held for one peer, and for all peers together, are bounded.
// Past a bound, that peer's deltas are refused and counted (never an abort, never a throw), and
// the peer is resynced after a backoff; once its state fits again the view is exact and deltas
// flow. Checked on the core, and against a hostile node flooding valid joins over a real socket.
import { afterEach, describe, expect, it } from 'vitest';
import { Node, Pid } from '../../runtime/index.js';
import { Internode } from '../../internode/index.js';
import { ProcessGroups, type PgMessage } from '../../pg/index.js';
import { Cluster, localState } from './harness.js';
import { until } from '../internode/helpers.js';

describe('pg core: memberships held per peer and in total', () => {
  it('refuses deltas past maxMembershipsPerPeer, counts them, and resyncs after a backoff', () => {
    const cluster = new Cluster(['a', 'b'], {
      limits: { maxMembershipsPerPeer: 10, maxRemoteMemberships: 100 },
      timings: { blockedRetryMs: 100, blockedRetryMaxMs: 400 },
    });
    cluster.settle();
    const pids = Array.from({ length: 12 }, () => cluster.spawn('b'));
    cluster.on('b', (s) => s.join('g', pids.slice(0, 8)));
    cluster.settle();
    expect(cluster.scope('a').members('g').length).toBe(8);
    cluster.on('b', (s) => s.join('g', pids.slice(8, 11))); // 11 > 10: refused whole
    cluster.on('b', (s) => s.join('h', pids[11]!)); // refused: a refuses b's deltas until a sync fits
    cluster.settle();
    const a = cluster.scope('a');
    expect(a.stats().refusedOverPeerLimit).toBe(2);
    expect(a.members('g').length).toBe(8);
    expect(a.remoteMemberships).toBe(8);
    // The resync comes after the backoff; b's state (12) still does not fit: cut to the bound.
    cluster.tick(50);
    cluster.settle();
    expect(a.stats().discoversSent).toBe(1);
    cluster.tick(60);
    cluster.settle();
    expect(a.stats().discoversSent).toBe(2);
    expect(a.remoteMemberships).toBe(10);
    expect(a.stats().refusedOverPeerLimit).toBe(3);
    // b shrinks under the bound; the next resync (backoff doubled) is exact, and deltas flow again.
    cluster.on('b', (s) => s.leave('g', pids.slice(0, 6)));
    cluster.settle();
    cluster.tick(250);
    cluster.settle();
    expect(localState(a, 'b')).toBe(localState(cluster.scope('b'), 'b'));
    expect(a.remoteMemberships).toBe(6);
    const refused = a.stats().refusedOverPeerLimit;
    cluster.on('b', (s) => s.join('k', pids[0]!));
    cluster.settle();
    expect(a.members('k')).toEqual([pids[0]]);
    expect(a.stats().refusedOverPeerLimit).toBe(refused);
    expect(a.peers()).toEqual([{ node: 'b', incarnation: 1, synced: true, version: cluster.scope('b').version }]);
  });

  it('bounds all peers together: a sync that would pass maxRemoteMemberships is cut to what is left', () => {
    const cluster = new Cluster(['a', 'b', 'c'], { limits: { maxMembershipsPerPeer: 100, maxRemoteMemberships: 12 } });
    cluster.settle();
    cluster.on('b', (s) =>
      s.join(
        'g',
        Array.from({ length: 8 }, () => cluster.spawn('b')),
      ),
    );
    cluster.settle();
    cluster.on('c', (s) =>
      s.join(
        'g',
        Array.from({ length: 8 }, () => cluster.spawn('c')),
      ),
    );
    cluster.settle();
    const a = cluster.scope('a');
    expect(a.remoteMemberships).toBeLessThanOrEqual(12);
    expect(a.stats().refusedOverPeerLimit).toBeGreaterThan(0);
    // c leaves the cluster: its memberships are freed and b's delta stream is unaffected.
    cluster.disconnect('a', 'c');
    expect(a.remoteMemberships).toBe(8);
  });
});

describe('pg host: a hostile node flooding valid joins over a real socket', () => {
  const stops: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s.stop();
  });

  it('holds at most maxMembershipsPerPeer of its pids, counts the refusals, and keeps serving', async () => {
    const secret = 'pg-flood-test-secret-0123';
    const a = await Node.start({ name: 'a', incarnation: 1 });
    const netA = await Internode.start({ node: a, cluster: 'flood', secret, listen: '127.0.0.1:0' });
    const pg = ProcessGroups.start({ node: a, internode: netA, limits: { maxMembershipsPerPeer: 5_000 } });
    const b = await Node.start({ name: 'b', incarnation: 1 });
    const netB = await Internode.start({
      node: b,
      cluster: 'flood',
      secret,
      listen: '127.0.0.1:0',
      seeds: [netA.address],
    });
    stops.push(a, netA, pg, b, netB);
    // b speaks pg by hand: it answers a's discover with an empty sync, then floods deltas.
    let discovered: PgMessage | undefined;
    netB.handle('pg', (_from, body) => void (discovered ??= body as PgMessage));
    await until(() => discovered !== undefined);
    const base = { scope: 'default', inc: 1, toInc: 1 };
    netB.sendFrame('a', 'pg', { ...base, t: 'sync', version: 0, part: 0, last: true, groups: [] });
    let version = 0;
    for (let i = 0; i < 100; i++) {
      const pids = Array.from({ length: 1_000 }, (_, j) => new Pid('b', 1 + i * 1_000 + j, 1));
      netB.sendFrame('a', 'pg', {
        ...base,
        t: 'delta',
        base: version,
        version: version + 1,
        ops: [['j', 'flood', pids]],
      });
      version++;
    }
    await until(() => (pg.scope().stats().refusedOverPeerLimit ?? 0) >= 95);
    expect(pg.members('flood').length).toBeLessThanOrEqual(5_000);
    expect(pg.members('flood').length).toBe(5_000);
    // The node still serves its own processes.
    const p = a.spawn(async (ctx) => void (await ctx.receive()));
    pg.join('local', p);
    expect(pg.members('local')).toEqual([p]);
  });
});
