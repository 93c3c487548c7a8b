import { describe, expect, test } from 'vitest';
import { Scheduler, SimNetwork, seededRandom, type Delivery, type NetworkFaults } from '../../sim/index.js';

function setup(faults: NetworkFaults = { lossRate: 0, duplicateRate: 0, minDelay: 1, maxDelay: 1 }, seed = 1) {
  const s = new Scheduler<Delivery<string>>();
  const net = new SimNetwork<string>(seededRandom(seed), s, faults);
  const drain = (): string[] => {
    const out: string[] = [];
    for (let e = s.next(); e !== undefined; e = s.next()) if (net.accept(e)) out.push(`${e.from}>${e.to}:${e.message}`);
    return out;
  };
  return { s, net, drain };
}

describe('SimNetwork', () => {
  test('a perfect network delivers everything once, in order', () => {
    const { net, drain } = setup();
    for (let i = 0; i < 5; i++) net.send('a', 'b', `m${i}`);
    expect(drain()).toEqual(['a>b:m0', 'a>b:m1', 'a>b:m2', 'a>b:m3', 'a>b:m4']);
  });

  test('a one-way cut drops one direction only, and heal restores it', () => {
    const { net, drain } = setup();
    net.cut('a', 'b');
    net.send('a', 'b', 'x');
    net.send('b', 'a', 'y');
    expect(drain()).toEqual(['b>a:y']);
    expect(net.stats.droppedPartition).toBe(1);
    net.heal();
    net.send('a', 'b', 'z');
    expect(drain()).toEqual(['a>b:z']);
  });

  test('a partition splits groups both ways but not within a group', () => {
    const { net, drain } = setup();
    net.partition([['a', 'b'], ['c']]);
    net.send('a', 'b', '1');
    net.send('a', 'c', '2');
    net.send('c', 'b', '3');
    expect(drain()).toEqual(['a>b:1']);
  });

  test('loss, duplication and reordering happen at the configured rates, reproducibly', () => {
    const run = (seed: number): string[] => {
      const { net, drain } = setup({ lossRate: 0.2, duplicateRate: 0.1, minDelay: 1, maxDelay: 30 }, seed);
      for (let i = 0; i < 1000; i++) net.send('a', 'b', String(i));
      return drain();
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(a.length).toBeGreaterThan(800);
    expect(a.length).toBeLessThan(1000);
    const firsts = a.map((x) => Number(x.split(':')[1]));
    expect(firsts).not.toEqual([...firsts].sort((x, y) => x - y));
    expect(new Set(firsts).size).toBeLessThan(firsts.length);
  });

  test('messages to or from a down node are dropped and counted', () => {
    const { net, drain } = setup();
    net.send('a', 'b', 'x');
    net.setDown('b', true);
    expect(drain()).toEqual([]);
    expect(net.stats.droppedDown).toBe(1);
  });
});

describe('the fault model grown: delay shape, replay, path capacity, one-way restore', () => {
  test('a mean delay gives a long tail: most copies quick, a few late, none past maxDelay', () => {
    const { s, net, drain } = setup({ lossRate: 0, duplicateRate: 0, minDelay: 2, maxDelay: 500, meanDelay: 12 }, 3);
    const at: number[] = [];
    for (let i = 0; i < 2000; i++) net.send('a', 'b', String(i));
    for (let e = s.next(); e !== undefined; e = s.next()) if (net.accept(e)) at.push(s.now);
    const mean = at.reduce((x, y) => x + y, 0) / at.length;
    expect(Math.min(...at)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...at)).toBeLessThanOrEqual(500);
    expect(mean).toBeGreaterThan(9);
    expect(mean).toBeLessThan(15);
    expect(at.filter((t) => t > 40).length).toBeGreaterThan(0);
    expect(drain()).toEqual([]);
  });

  test('replay delivers an old copy again, later than the original, and counts it', () => {
    const { net, drain } = setup({ lossRate: 0, duplicateRate: 0, minDelay: 1, maxDelay: 1, replayRate: 1 });
    net.send('a', 'b', 'x');
    net.send('a', 'b', 'y');
    const out = drain();
    expect(out.slice(0, 2)).toEqual(['a>b:x', 'a>b:y']);
    expect(out.slice(2).sort()).toEqual(['a>b:x', 'a>b:y']);
    expect(net.stats.replayed).toBe(2);
  });

  test('a path holds at most pathCapacity copies in flight; more are dropped and counted', () => {
    const { s, net } = setup({ lossRate: 0, duplicateRate: 0, minDelay: 5, maxDelay: 5, pathCapacity: 2 });
    for (const m of ['1', '2', '3']) net.send('a', 'b', m);
    net.send('b', 'a', 'other path');
    expect(net.stats.droppedCapacity).toBe(1);
    const first = s.next();
    expect(first !== undefined && net.accept(first)).toBe(true); // one slot frees on arrival
    net.send('a', 'b', '4');
    expect(net.stats.droppedCapacity).toBe(1);
    net.send('a', 'b', '5');
    expect(net.stats.droppedCapacity).toBe(2);
  });

  test('restore reopens one direction of a cut only', () => {
    const { net, drain } = setup();
    net.partition([['a'], ['b']]);
    net.model.restore('a', 'b');
    net.send('a', 'b', 'x');
    net.send('b', 'a', 'y');
    expect(drain()).toEqual(['a>b:x']);
  });
});
