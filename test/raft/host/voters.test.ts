// The voter reconciler at work inside the host: nodes that join later become learners, catch
// up and are promoted on the odd ladder; a voter down past the grace period leaves, and comes
// back as a learner that is promoted again.
import { afterEach, describe, expect, it } from 'vitest';
import { RaftHost, type RaftGroup } from '../../../raft/host/index.js';
import { MemoryLogStore } from '../../../raft/store/index.js';
import { VirtualClock, seededRandom } from '../../../runtime/index.js';
import { LoopNet, RecordingTenant, advanceUntil, cmd } from './loop-net.js';

const founders = ['a', 'b', 'c'];
let clock: VirtualClock;
let net: LoopNet;
let nodes = new Map<
  string,
  { host: RaftHost; store: MemoryLogStore; tenant: RecordingTenant; group: RaftGroup<RecordingTenant> }
>();

afterEach(async () => {
  for (const n of nodes.values()) await n.host.stop();
  nodes = new Map();
});

async function start(name: string, store = new MemoryLogStore()) {
  const tenant = new RecordingTenant();
  const host = new RaftHost({
    self: name,
    store,
    clock,
    transport: net.transport(name),
    random: seededRandom(name.charCodeAt(0)),
    voters: { maxVoters: 5, graceMs: 5_000 },
  });
  // Every node names the same founders; a node outside them starts with no say and waits.
  const group = await host.addGroup({ id: 'g', tenant, bootstrap: { voters: founders, learners: [] } });
  net.setUp(name, true);
  nodes.set(name, { host, store, tenant, group });
  return nodes.get(name)!;
}

const until = <T>(probe: () => T | undefined | false, maxMs = 30_000): Promise<T> => advanceUntil(clock, probe, maxMs);

const leader = () => [...nodes.values()].find((n) => n.group.status().role === 'leader');
const config = () => leader()?.group.status().membership;
const sorted = (xs: readonly string[]) => [...xs].sort();

async function propose(text: string) {
  let done = false;
  void leader()!
    .group.propose(cmd(text))
    .then(() => (done = true));
  await until(() => done);
}

describe('RaftHost voter reconciler', () => {
  it('adds nodes that join later as learners and promotes two caught-up learners to make five voters', async () => {
    clock = new VirtualClock();
    net = new LoopNet(clock);
    for (const f of founders) await start(f);
    await until(leader);
    await propose('before');
    await start('d');
    await until(() => config()?.learners.includes('d'));
    expect(sorted(config()!.voters)).toEqual(founders); // one learner cannot climb a rung alone
    await start('e');
    await until(() => config()?.voters.length === 5, 60_000);
    expect(sorted(config()!.voters)).toEqual(['a', 'b', 'c', 'd', 'e']);
    await propose('after');
    await until(() => nodes.get('e')!.tenant.log.length === 2);
    expect(nodes.get('e')!.tenant.log).toEqual(['before', 'after']);
    const changes = [...nodes.values()].reduce((n, x) => n + x.host.counters.reconcileChanges, 0);
    expect(changes).toBe(4); // two learners added, two promoted: no churn
  });

  it('removes a voter down past the grace period and takes it back as a learner, then a voter', async () => {
    clock = new VirtualClock();
    net = new LoopNet(clock);
    for (const f of founders) await start(f);
    await until(leader);
    await propose('one');
    const gone = founders.find((f) => f !== leader()!.host.self)!;
    const { store } = nodes.get(gone)!;
    await nodes.get(gone)!.host.stop();
    nodes.delete(gone);
    net.remove(gone);
    // Two voters left: the reconciler comes down a rung to one (an even count is no safer).
    await until(() => config() !== undefined && !config()!.voters.includes(gone) && !config()!.learners.includes(gone));
    await propose('two');
    const back = await start(gone, store);
    await until(() => config()?.voters.includes(gone) || config()?.learners.includes(gone));
    await until(() => back.tenant.log.length === 2);
    expect(back.tenant.log).toEqual(['one', 'two']);
    // With the demoted founder back as a learner too, two caught-up learners climb to three.
    await until(() => config()?.voters.length === 3, 60_000);
    expect(sorted(config()!.voters)).toEqual(founders);
  });

  it('never takes in a node that is up but does not run the group', async () => {
    clock = new VirtualClock();
    net = new LoopNet(clock);
    for (const f of founders) await start(f);
    await until(leader);
    net.transport('bystander');
    net.setUp('bystander', true);
    await clock.advance(10_000);
    expect(sorted(config()!.voters)).toEqual(founders);
    expect(config()!.learners).toEqual([]);
  });
});
