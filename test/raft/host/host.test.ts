import { afterEach, describe, expect, it } from 'vitest';
import { RaftHost, type RaftGroup } from '../../../raft/host/index.js';
import { MemoryLogStore } from '../../../raft/store/index.js';
import { VirtualClock, seededRandom } from '../../../runtime/index.js';
import { LoopNet, RecordingTenant, advanceUntil, cmd } from './loop-net.js';

interface Member {
  name: string;
  host: RaftHost;
  store: MemoryLogStore;
  tenant: RecordingTenant;
  group: RaftGroup<RecordingTenant>;
}

const voters = ['a', 'b', 'c'];
let clock: VirtualClock;
let net: LoopNet;
let members: Member[] = [];

async function start(name: string, store = new MemoryLogStore(), options: { snapshotEvery?: number } = {}) {
  const tenant = new RecordingTenant();
  const host = new RaftHost({
    self: name,
    store,
    clock,
    transport: net.transport(name),
    random: seededRandom(name.charCodeAt(0)),
  });
  const group = await host.addGroup({
    id: 'test',
    tenant,
    bootstrap: { voters, learners: [] },
    ...(options.snapshotEvery !== undefined
      ? { snapshotEvery: options.snapshotEvery, limits: { compactionTrailingEntries: 0 } }
      : {}),
  });
  const m = { name, host, store, tenant, group };
  members = members.filter((x) => x.name !== name).concat(m);
  return m;
}

async function cluster(options: { snapshotEvery?: number } = {}) {
  clock = new VirtualClock();
  net = new LoopNet(clock);
  members = [];
  for (const v of voters) await start(v, new MemoryLogStore(), options);
  const leader = await until(() => members.find((m) => m.group.status().role === 'leader'));
  return { leader, followers: members.filter((m) => m !== leader) };
}

/** Advances the virtual clock until `probe` returns a value (bounded). */
const until = <T>(probe: () => T | undefined | false, maxMs = 10_000): Promise<T> => advanceUntil(clock, probe, maxMs);

/** Runs a promise to its end while the virtual clock moves. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: { code?: string } };
async function settle<T>(p: Promise<T>, maxMs = 30_000): Promise<Outcome<T>> {
  let out: Outcome<T> | undefined;
  p.then(
    (value) => (out = { ok: true, value }),
    (error: unknown) => (out = { ok: false, error: error as { code?: string } }),
  );
  return until(() => out, maxMs);
}

afterEach(async () => {
  for (const m of members) await m.host.stop();
});

describe('RaftHost', () => {
  it('elects a leader and applies a proposal from the leader on every node, with its result', async () => {
    const { leader } = await cluster();
    const r = await settle(leader.group.propose(cmd('x=1')));
    expect(r).toMatchObject({ ok: true, value: { count: 1, text: 'x=1' } });
    await until(() => members.every((m) => m.tenant.log.length === 1));
    for (const m of members) expect(m.tenant.log).toEqual(['x=1']);
  });

  it('forwards a proposal from a follower to the leader and returns the tenant result', async () => {
    const { followers } = await cluster();
    const results = await Promise.all([1, 2, 3].map((i) => settle(followers[i % 2]!.group.propose(cmd(`f${i}`)))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(followers[0]!.host.counters.forwarded + followers[1]!.host.counters.forwarded).toBe(3);
    await until(() => members.every((m) => m.tenant.log.length === 3));
    const logs = members.map((m) => m.tenant.log.join(','));
    expect(new Set(logs).size).toBe(1);
  });

  it('batches a turn of proposals into one append and persists all of them with one store write', async () => {
    const { leader } = await cluster();
    const before = leader.host.counters.persists;
    const all = Promise.all(Array.from({ length: 50 }, (_, i) => leader.group.propose(cmd(`p${i}`))));
    const r = await settle(all);
    expect(r.ok).toBe(true);
    // 50 proposals made in one turn: a handful of persists, not 50.
    expect(leader.host.counters.persists - before).toBeLessThan(10);
    expect(leader.tenant.log.slice(-50)).toEqual(Array.from({ length: 50 }, (_, i) => `p${i}`));
  });

  it('serves a linearizable read on a follower after a write that resolved elsewhere', async () => {
    const { leader, followers } = await cluster();
    await settle(leader.group.propose(cmd('v1')));
    const read = await settle(followers[0]!.group.read((t) => t.log.at(-1)));
    expect(read).toMatchObject({ ok: true, value: { value: 'v1' } });
    const local = await settle(followers[1]!.group.read((t) => t.log.length, { consistency: 'local' }));
    expect(local.ok && typeof local.value.applied).toBe('number');
  });

  it('refuses lease reads on a group not in lease mode, and an unknown group, with typed errors', async () => {
    const { leader } = await cluster();
    await expect(leader.group.read((t) => t.log, { consistency: 'lease' })).rejects.toMatchObject({
      code: 'ERR_BAD_ARGUMENT',
    });
    await expect(leader.host.propose('nope', cmd('x'))).rejects.toMatchObject({ code: 'ERR_RAFT_NO_GROUP' });
    await expect(leader.host.propose('test', 'text' as never)).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT' });
  });

  it('reports a forwarded proposal whose leader is cut off as indeterminate, never as success or failure', async () => {
    const { leader, followers } = await cluster();
    const f = followers[0]!;
    // The leader receives the forward, then is cut off from everyone: it cannot commit.
    const p = f.group.propose(cmd('lost?'), { timeout: 2_000 });
    await clock.advance(1);
    for (const m of members) if (m !== leader) net.cut(leader.name, m.name);
    const r = await settle(p);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('ERR_RAFT_INDETERMINATE');
  });

  it('a proposal with no leader to be found fails plainly (nothing was appended)', async () => {
    const { leader, followers } = await cluster();
    const f = followers[0]!;
    for (const m of members) if (m !== f) net.cut(f.name, m.name);
    net.setUp(leader.name, false); // f sees its leader go: it forgets it and campaigns in vain
    const r = await settle(f.group.propose(cmd('x'), { timeout: 3_000 }));
    expect(r.ok).toBe(false);
    expect(!r.ok && ['ERR_RAFT_NO_LEADER', 'ERR_TIMEOUT', 'ERR_RAFT_INDETERMINATE']).toContain(!r.ok && r.error.code);
  });

  it('fails over when the leader dies: a surviving node commits again', async () => {
    const { leader, followers } = await cluster();
    await settle(leader.group.propose(cmd('before')));
    net.setUp(leader.name, false);
    await leader.host.stop();
    const next = await until(() => followers.find((m) => m.group.status().role === 'leader'), 5_000);
    const r = await settle(next.group.propose(cmd('after')));
    expect(r.ok).toBe(true);
    expect(next.tenant.log).toEqual(['before', 'after']);
  });

  it('restarts from its store and rebuilds its tenant by replaying the log', async () => {
    const { leader, followers } = await cluster();
    for (let i = 0; i < 5; i++) await settle(leader.group.propose(cmd(`e${i}`)));
    const f = followers[0]!;
    await until(() => f.tenant.log.length === 5);
    await f.host.stop();
    net.remove(f.name);
    const again = await start(f.name, f.store);
    net.setUp(f.name, true);
    await until(() => again.tenant.log.length === 5);
    expect(again.tenant.log).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
  });

  it('snapshots and compacts, and a follower that fell behind catches up from a snapshot sent in chunks', async () => {
    const { leader, followers } = await cluster({ snapshotEvery: 20 });
    const lagging = followers[0]!;
    net.cut(leader.name, lagging.name);
    net.cut(followers[1]!.name, lagging.name);
    for (let i = 0; i < 60; i++) expect((await settle(leader.group.propose(cmd(`s${i}`)))).ok).toBe(true);
    expect(leader.group.status().snapshotIndex).toBeGreaterThan(0);
    expect(leader.group.status().firstIndex).toBeGreaterThan(1);
    net.heal();
    await until(() => lagging.tenant.log.length === 60, 20_000);
    expect(lagging.tenant.restores).toBeGreaterThan(0);
    expect(lagging.tenant.log).toEqual(leader.tenant.log);
    expect(leader.host.counters.snapshotChunksSent).toBeGreaterThan(0);
  });

  it('drops malformed frames with a count, and keeps working', async () => {
    const { leader, followers } = await cluster();
    const bad = net.transport('mallory');
    net.setUp('mallory', true);
    for (const body of [null, 7, { t: 'msg' }, { t: 'fwd', g: 'test', id: -1 }, { t: 'zz', g: 'test' }])
      bad.sendFrame(leader.name, 'raft', body);
    await clock.advance(5);
    expect(leader.host.counters.badFrames).toBeGreaterThanOrEqual(5);
    expect((await settle(followers[0]!.group.propose(cmd('still')))).ok).toBe(true);
  });

  it('after stop, calls fail with ERR_STOPPED', async () => {
    const { leader } = await cluster();
    await leader.host.stop();
    await expect(leader.group.propose(cmd('x'))).rejects.toMatchObject({ code: 'ERR_STOPPED' });
  });
});
