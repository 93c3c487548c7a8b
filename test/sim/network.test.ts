import { describe, expect, test } from 'vitest';
import { Scheduler, SimNetwork, seededRandom, type Delivery } from '../../sim/index.js';

function setup(faults = { lossRate: 0, duplicateRate: 0, minDelay: 1, maxDelay: 1 }, seed = 1) {
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
