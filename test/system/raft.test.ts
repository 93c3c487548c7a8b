// The Raft host inside Cluster, over real WebSocket connections on loopback and real LMDB
// files: a group founded by three voters commits proposals made on any node, serves
// linearizable reads, and comes back from its data directories after every node restarted.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Cluster, type Tenant } from '../../index.js';

const SECRET = 'raft-cluster-test-secret-0123456789';
const root = mkdtempSync(join(tmpdir(), 'troupe-raft-cluster-'));
const started: Cluster[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tiny replicated map: commands are msgpack [key, value]; the result is the old value. */
class MapTenant implements Tenant<unknown> {
  map = new Map<string, unknown>();
  apply(command: Uint8Array) {
    const [key, value] = unpack(command) as [string, unknown];
    const old = this.map.get(key) ?? null;
    this.map.set(key, value);
    return old;
  }
  snapshot() {
    return pack([...this.map]);
  }
  restore(image: Uint8Array) {
    this.map = new Map(unpack(image) as [string, unknown][]);
  }
}

async function threeNodes(run: string) {
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
  await Promise.all(nodes.map((n) => n.ready({ nodes: 3, timeout: 10_000 })));
  const groups = await Promise.all(nodes.map((n) => n.addGroup({ id: 'map', tenant: new MapTenant() })));
  await Promise.all(groups.map((g) => g.leader({ timeout: 10_000 })));
  return { nodes, groups };
}

describe('Cluster with raft', () => {
  it('commits a proposal made on any node and reads it linearizably elsewhere', async () => {
    const { groups } = await threeNodes('any-node');
    const follower = groups.find((g) => g.status().role !== 'leader')!;
    expect(await follower.propose(pack(['k', 1]), { timeout: 5_000 })).toBeNull();
    expect(await groups[0]!.propose(pack(['k', 2]), { timeout: 5_000 })).toBe(1);
    for (const g of groups) {
      const r = await g.read((t) => t.map.get('k'), { timeout: 5_000 });
      expect(r.value).toBe(2);
    }
  });

  it('every node restarts from its data directory with the state it acknowledged', async () => {
    const first = await threeNodes('restart');
    for (let i = 0; i < 20; i++) await first.groups[i % 3]!.propose(pack([`k${i}`, i]), { timeout: 5_000 });
    await Promise.all(started.splice(0).map((c) => c.stop()));
    const again = await threeNodes('restart');
    const r = await again.groups[1]!.read((t) => t.map.size, { timeout: 10_000 });
    expect(r.value).toBe(20);
    expect((await again.groups[2]!.read((t) => t.map.get('k19'), { timeout: 5_000 })).value).toBe(19);
  });

  it('refuses bad raft options naming them, and a data directory of another node', async () => {
    const bad = (raft: unknown) => Cluster.start({ name: 'x', logger: false, raft: raft as never });
    await expect(bad({ voters: ['x'] })).rejects.toMatchObject({ code: 'ERR_BAD_CONFIG', option: 'raft.dataDir' });
    await expect(bad({ dataDir: join(root, 'x'), voters: ['x', 'y'] })).rejects.toMatchObject({
      option: 'raft.voters',
    });
    const dir = join(root, 'owned');
    const owner = await Cluster.start({ name: 'owner', logger: false, raft: { dataDir: dir, voters: ['owner'] } });
    await owner.stop();
    await expect(
      Cluster.start({ name: 'thief', logger: false, raft: { dataDir: dir, voters: ['thief'] } }),
    ).rejects.toMatchObject({ code: 'ERR_RAFT_STORE_FOREIGN' });
  });

  it('a lone node runs a one-voter group and answers from its own log', async () => {
    const solo = await Cluster.start({
      name: 'solo',
      logger: false,
      raft: { dataDir: join(root, 'solo'), voters: ['solo'] },
    });
    started.push(solo);
    const g = await solo.addGroup({ id: 'map', tenant: new MapTenant() });
    await g.leader({ timeout: 5_000 });
    expect(await g.propose(pack(['a', 'b']))).toBeNull();
    expect((await g.read((t) => t.map.get('a'))).value).toBe('b');
    expect(() => (solo as Cluster).raft.status('nope')).toThrow(expect.objectContaining({ code: 'ERR_RAFT_NO_GROUP' }));
  });

  it('founds with the first three nodes to meet (expect: 3); a fourth adopts them and joins as a learner', async () => {
    const start = (name: string, seed?: string) =>
      Cluster.start({
        name,
        secret: SECRET,
        listen: '127.0.0.1:0',
        logger: false,
        ...(seed !== undefined ? { seeds: [seed] } : {}),
        raft: { dataDir: join(root, 'expect', name), expect: 3 },
      });
    const a = await start('a');
    started.push(a);
    const rest = await Promise.all(['b', 'c'].map((n) => start(n, a.address!)));
    started.push(...rest);
    const three = [a, ...rest];
    const groups = await Promise.all(three.map((c) => c.addGroup({ id: 'map', tenant: new MapTenant() })));
    await Promise.all(groups.map((g) => g.leader({ timeout: 10_000 })));
    expect([...groups[0]!.status().membership.voters].sort()).toEqual(['a', 'b', 'c']);
    expect(await groups[1]!.propose(pack(['k', 'v']), { timeout: 5_000 })).toBeNull();
    expect(readFileSync(join(root, 'expect', 'b', 'founders.json'), 'utf8')).toContain('"a","b","c"');

    const d = await start('d', a.address!);
    started.push(d);
    const late = await d.addGroup({ id: 'map', tenant: new MapTenant() }, { timeout: 10_000 });
    await late.leader({ timeout: 10_000 }); // the leader took d in: it hears from it now
    const r = await late.read((t) => t.map.get('k'), { timeout: 10_000 });
    expect(r.value).toBe('v');
    const leader = groups.find((g) => g.status().role === 'leader')!;
    expect(leader.status().membership.learners).toContain('d');
  });

  it('refuses voters and expect together, an even expect, and a bad voter cap', async () => {
    const bad = (raft: unknown) => Cluster.start({ name: 'x', logger: false, raft: raft as never });
    const dataDir = join(root, 'bad');
    await expect(bad({ dataDir, voters: ['x'], expect: 1 })).rejects.toMatchObject({ option: 'raft.voters' });
    await expect(bad({ dataDir, expect: 2 })).rejects.toMatchObject({ option: 'raft.expect' });
    await expect(bad({ dataDir, voters: ['x'], maxVoters: 4 })).rejects.toMatchObject({ option: 'raft.maxVoters' });
  });

  it('refuses a garbled founders file naming it, and says the Raft KV is off without raft', async () => {
    const dir = join(root, 'garbled');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'founders.json'), '{"voters": "not a list"}');
    await expect(Cluster.start({ name: 'g', logger: false, raft: { dataDir: dir, expect: 1 } })).rejects.toMatchObject({
      code: 'ERR_RAFT_STORE_CORRUPT',
      message: expect.stringContaining('founders.json'),
    });
    const plain = await Cluster.start({ name: 'plain', logger: false });
    started.push(plain);
    await expect(plain.kv.space('s').get('k')).rejects.toMatchObject({ code: 'ERR_BAD_CONFIG' });
    expect(plain.kv.eventual('s').put('k', 'v').value).toBe('v'); // eventual spaces need no Raft
  });
});
