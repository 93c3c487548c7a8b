// A seeded simulation of three replicas of one eventual space over a lossy network that
// duplicates and reorders, partitioned for a while with writes on both sides: once it heals,
// gossip and anti-entropy bring every replica to the same state within a bounded number of
// rounds, and what they show is what the conflict rule picks from the writes that survived.
import { describe, expect, it } from 'vitest';
import { decode, encode, seededRandom, type Random } from '../../../runtime/index.js';
import type { EventualKvCore, EventualKvOutput } from '../../../kv/index.js';
import { messagesOf, replica, viewOf, type Envelope } from './replicas.js';

const NODES = ['a', 'b', 'c'];

class Net {
  readonly inFlight: Envelope[] = [];
  cut = new Set<string>();
  constructor(
    readonly random: Random,
    readonly lossy: boolean,
  ) {}
  send(from: string, outputs: readonly EventualKvOutput[]): void {
    for (const m of messagesOf(from, outputs)) {
      if (this.cut.has(`${m.from}>${m.to}`)) continue;
      if (this.lossy && this.random.chance(0.2)) continue;
      this.inFlight.push(m);
      if (this.lossy && this.random.chance(0.1)) this.inFlight.push(m);
    }
  }
  /** Delivers what is in flight in a random order (replies go out again). */
  step(cores: Map<string, EventualKvCore>): void {
    const batch = this.inFlight.splice(0);
    for (let i = batch.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [batch[i], batch[j]] = [batch[j] as Envelope, batch[i] as Envelope];
    }
    for (const m of batch) {
      if (this.cut.has(`${m.from}>${m.to}`)) continue;
      const to = cores.get(m.to) as EventualKvCore;
      this.send(m.to, to.receive(m.from, decode(encode(m.message))));
    }
  }
}

function simulate(seed: number): { rounds: number; views: ReturnType<typeof viewOf>[] } {
  const random = seededRandom(seed);
  const cores = new Map(NODES.map((n, i) => [n, replica(n, seed + i)]));
  const net = new Net(random.fork(), true);
  let now = 10_000;
  const round = (writes: boolean, step: number): void => {
    for (const [node, core] of cores) {
      if (writes && random.chance(0.5)) {
        const key = `k${random.int(12)}`;
        if (random.chance(0.25)) core.delete(key);
        else core.put(key, `${node}-${step}`, (now += random.int(3)));
      }
      const peers = NODES.filter((n) => n !== node && !net.cut.has(`${node}>${n}`));
      net.send(node, core.flush(peers));
      if (step % 5 === 0 && peers.length > 0) net.send(node, [core.digestTo(random.pick(peers))]);
    }
    net.step(cores);
  };
  for (let s = 0; s < 40; s++) round(true, s);
  // Partition a | b c, writes on both sides.
  for (const x of ['b', 'c']) net.cut.add(`a>${x}`).add(`${x}>a`);
  for (let s = 40; s < 120; s++) round(true, s);
  net.cut.clear();
  const views = (): ReturnType<typeof viewOf>[] => [...cores.values()].map(viewOf);
  const same = (): boolean => views().every((v) => JSON.stringify(v) === JSON.stringify(views()[0]));
  let rounds = 0;
  while (!same() && rounds < 500) round(false, 1_000 + rounds++);
  return { rounds, views: views() };
}

describe('eventual space simulation', () => {
  for (const seed of [1, 2, 3, 7, 42, 1234]) {
    it(`converges after a partition heals (seed ${seed})`, () => {
      const { rounds, views } = simulate(seed);
      expect(rounds).toBeGreaterThan(0); // the partition left the replicas apart
      expect(rounds).toBeLessThan(500);
      expect(views[1]).toEqual(views[0]);
      expect(views[2]).toEqual(views[0]);
    });
  }

  it('a write made after the heal is what every replica shows', () => {
    const cores = new Map(NODES.map((n, i) => [n, replica(n, i + 1)]));
    const net = new Net(seededRandom(5), false);
    net.cut.add('a>b').add('b>a').add('a>c').add('c>a');
    // Concurrent writes on both sides of the partition: b's clock is ahead, so b's wins.
    cores.get('a')!.put('k', 'from-a', 1_000);
    cores.get('b')!.put('k', 'from-b', 2_000);
    for (const [n, core] of cores) net.send(n, core.flush(NODES.filter((x) => x !== n)));
    net.step(cores);
    expect(cores.get('a')!.get('k')!.value).toBe('from-a');
    expect(cores.get('c')!.get('k')!.value).toBe('from-b');
    net.cut.clear();
    net.send('a', [cores.get('a')!.digestTo('b')]);
    net.send('a', [cores.get('a')!.digestTo('c')]);
    for (let i = 0; i < 4; i++) net.step(cores);
    for (const core of cores.values()) expect(core.get('k')).toMatchObject({ value: 'from-b', siblings: 2 });
    // a saw b's write, so a's next write (even with a clock behind) stamps above it and wins.
    cores.get('a')!.put('k', 'after-heal', 1_500);
    net.send('a', cores.get('a')!.flush(['b', 'c']));
    net.step(cores);
    for (const core of cores.values()) expect(core.get('k')).toMatchObject({ value: 'after-heal', siblings: 1 });
  });
});
