// How the host uses its store: commit-only writes do not wait for the disk, several persists may
// be in flight, and the engines hear `persisted` in write order even when the store answers out
// of order. Proposals still commit exactly once everywhere.
import { afterEach, describe, expect, it } from 'vitest';
import { RaftHost, type RaftGroup } from '../../../raft/host/index.js';
import { MemoryLogStore, type GroupWrite } from '../../../raft/store/index.js';
import { VirtualClock, seededRandom } from '../../../runtime/index.js';
import { LoopNet, RecordingTenant, advanceUntil, cmd } from './loop-net.js';

/**
 * A memory store whose writes land in call order (as the contract requires) but whose promises
 * resolve after `delay(n)` virtual ms each, so they can resolve out of order.
 */
class SlowStore extends MemoryLogStore {
  readonly calls: { entries: number; termOrVote: boolean }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** The last entry index once some resolved persist (and all before it) is durable. */
  durableLast = 0;
  constructor(
    private readonly clock: VirtualClock,
    private readonly delay: (n: number) => number,
  ) {
    super();
  }
  override persist(writes: readonly GroupWrite[]): Promise<void> {
    const n = this.calls.length;
    const before = this.load('g').hardState;
    this.calls.push({
      entries: writes.reduce((k, w) => k + w.write.entries.length, 0),
      termOrVote: writes.some(
        (w) =>
          w.write.hardState !== null &&
          (w.write.hardState.term !== before.term || w.write.hardState.vote !== before.vote),
      ),
    });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const applied = super.persist(writes);
    const last = this.load('g').entries.at(-1)?.index ?? 0;
    return new Promise((done, fail) =>
      this.clock.setTimer(this.delay(n), () => {
        this.inFlight--;
        this.durableLast = Math.max(this.durableLast, last);
        applied.then(done, fail);
      }),
    );
  }
}

let clock: VirtualClock;
let hosts: RaftHost[] = [];
afterEach(async () => {
  // Stopping waits for persists in flight, which finish on the virtual clock.
  let stopped = false;
  void Promise.all(hosts.map((h) => h.stop())).then(() => (stopped = true));
  await until(() => stopped);
  hosts = [];
});

const until = <T>(probe: () => T | undefined | false, maxMs = 20_000): Promise<T> =>
  advanceUntil(clock, probe, maxMs, 5);

async function threeNodes(delay: (n: number) => number) {
  clock = new VirtualClock();
  const net = new LoopNet(clock);
  const nodes: { store: SlowStore; tenant: RecordingTenant; group: RaftGroup<RecordingTenant> }[] = [];
  for (const name of ['a', 'b', 'c']) {
    const store = new SlowStore(clock, delay);
    const tenant = new RecordingTenant();
    const host = new RaftHost({
      self: name,
      store,
      clock,
      transport: net.transport(name),
      random: seededRandom(name.charCodeAt(0)),
    });
    hosts.push(host);
    const group = await host.addGroup({ id: 'g', tenant, bootstrap: { voters: ['a', 'b', 'c'], learners: [] } });
    nodes.push({ store, tenant, group });
  }
  const leader = await until(() => nodes.find((n) => n.group.status().role === 'leader'));
  return { nodes, leader };
}

describe('RaftHost persists', () => {
  it('syncs every write holding entries, a term or a vote; a commit-only turn skips the store', async () => {
    const { nodes, leader } = await threeNodes(() => 2);
    for (let i = 0; i < 20; i++) {
      let done = false;
      void leader.group.propose(cmd(`p${i}`)).then(() => (done = true));
      await until(() => done);
    }
    await until(() => nodes.every((n) => n.tenant.log.length === 20));
    for (const n of nodes) {
      // Every store write promises something: an entry, a term or a vote.
      expect(n.store.calls.every((c) => c.entries > 0 || c.termOrVote)).toBe(true);
      // Commit-only turns were counted, not written; their commit rode on a later write.
      const stored = n.store.load('g');
      expect(stored.hardState.commit).toBeGreaterThan(0);
      expect(stored.hardState.commit).toBeLessThanOrEqual(stored.entries.at(-1)!.index);
    }
    expect(hosts.some((h) => h.counters.persistsUnsynced > 0)).toBe(true);
  });

  it('keeps persists in flight that resolve out of order; nothing is durable before its persist', async () => {
    // Every other persist is slow: later ones finish first.
    const { nodes, leader } = await threeNodes((n) => (n % 2 === 0 ? 9 : 1));
    // Waves of proposals while the disk is slow, so that persists overlap.
    const results: Promise<unknown>[] = [];
    for (let wave = 0; wave < 10; wave++) {
      for (let i = 0; i < 20; i++) results.push(leader.group.propose(cmd(`q${wave * 20 + i}`)));
      await clock.advance(1);
    }
    let settled = 0;
    for (const r of results) void r.then(() => settled++);
    // The engine never counts an entry durable before a persist holding it resolved.
    const ahead = () => nodes.some((n) => n.group.status().durableIndex > n.store.durableLast);
    await until(() => {
      expect(ahead()).toBe(false);
      return settled === results.length;
    });
    await until(() => nodes.every((n) => n.tenant.log.length === 200));
    for (const n of nodes) expect(n.tenant.log).toEqual(leader.tenant.log);
    expect(Math.max(...nodes.map((n) => n.store.maxInFlight))).toBeGreaterThan(1);
    for (const n of nodes) expect(new Set(n.tenant.log).size).toBe(200);
  });
});
