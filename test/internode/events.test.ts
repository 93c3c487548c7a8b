// Node events as an async iterator: they arrive in order, and the iterator ends when the layer stops.
import { describe, expect, it } from 'vitest';
import { Node } from '../../runtime/index.js';
import { Internode, MemoryNetwork, type NodeEvent } from '../../internode/index.js';
import { SECRET } from './helpers.js';

describe('Internode.events()', () => {
  it('yields events in order, reports the peers left behind on stop, then ends', async () => {
    const network = new MemoryNetwork((fn) => void setImmediate(fn));
    const start = async (name: string, seeds: string[]): Promise<{ node: Node; net: Internode }> => {
      const node = await Node.start({ name, incarnation: 1 });
      const net = await Internode.start({
        node,
        cluster: 'ev',
        secret: SECRET,
        listen: `${name}:1`,
        seeds,
        transport: network.transport(`${name}:1`),
      });
      return { node, net };
    };
    const a = await start('a', []);
    const seen: NodeEvent[] = [];
    const reading = (async () => {
      for await (const e of a.net.events()) seen.push(e);
      return 'ended';
    })();
    const b = await start('b', ['a:1']);
    await new Promise<void>((resolve) => {
      const stop = a.net.subscribe((e) => e.type === 'up' && (stop(), resolve()));
    });
    await a.net.stop();
    expect(await reading).toBe('ended');
    expect(seen.map((e) => `${e.type} ${e.node}${e.type === 'down' ? ` ${e.reason}` : ''}`)).toEqual([
      'up b',
      'down b stopped',
    ]);
    expect(a.net.stats().eventsDropped).toBe(0);
    await b.net.stop();
    await a.node.stop();
    await b.node.stop();
  });

  it('an iterator waiting with nothing to report also ends on stop', async () => {
    const node = await Node.start({ name: 'alone', incarnation: 1 });
    const net = await Internode.start({
      node,
      cluster: 'ev',
      secret: SECRET,
      transport: new MemoryNetwork().transport(),
    });
    const reading = (async () => {
      for await (const e of net.events()) void e;
      return 'ended';
    })();
    await new Promise((r) => setImmediate(r));
    await net.stop();
    const bound = new Promise((r) => setTimeout(() => r('still waiting'), 2_000));
    expect(await Promise.race([reading, bound])).toBe('ended');
    await node.stop();
  });
});
