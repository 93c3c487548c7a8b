// internode's in-memory transport under the one fault model: the same FaultModel that drives the
// datagram simulations decides loss, delay and cuts per node (a connection stays FIFO and never
// duplicates), and a cut refuses dials as well as deliveries.
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, type Connection } from '../../internode/index.js';
import { VirtualClock } from '../../runtime/index.js';
import { FaultModel, hostOf, memoryTransportFaults, seededRandom } from '../../sim/index.js';

async function pair(model: FaultModel, clock: VirtualClock): Promise<{ client: Connection; got: string[] }> {
  const network = new MemoryNetwork((fn, delay) => void clock.setTimer(delay, fn));
  network.faults = memoryTransportFaults(model);
  const got: string[] = [];
  await network
    .transport('b:7000')
    .listen('b:7000', (server) =>
      server.setHandlers({ message: (data) => got.push(data.toString()), close: () => {} }),
    );
  const client = await network.transport('a:7000').dial('b:7000');
  return { client, got };
}

describe('memoryTransportFaults', () => {
  it('names nodes by the host part of their address', () => {
    expect([hostOf('n1:7000'), hostOf('client-3'), hostOf('10.0.0.1:99')]).toEqual(['n1', 'client-3', '10.0.0.1']);
  });

  it('loses and delays per the model, keeps a connection FIFO, and never duplicates', async () => {
    const clock = new VirtualClock();
    const model = new FaultModel(seededRandom(5), {
      lossRate: 0.2,
      duplicateRate: 1,
      replayRate: 1,
      minDelay: 1,
      maxDelay: 50,
    });
    const { client, got } = await pair(model, clock);
    for (let i = 0; i < 200; i++) client.send(Buffer.from(String(i)));
    await clock.advance(10);
    const early = got.length;
    await clock.advance(1_000);
    expect(early).toBeLessThan(got.length); // delayed, not all at once
    expect(got.length).toBe(200 - model.stats.droppedLoss);
    expect(model.stats.droppedLoss).toBeGreaterThan(10);
    expect(model.stats.duplicated + model.stats.replayed).toBe(0);
    const order = got.map(Number);
    expect(order).toEqual([...order].sort((x, y) => x - y));
  });

  it('a one-way cut drops that direction and refuses new dials across it; restore reopens it', async () => {
    const clock = new VirtualClock();
    const model = new FaultModel(seededRandom(1));
    const { client, got } = await pair(model, clock);
    model.cut('a', 'b');
    client.send(Buffer.from('lost'));
    await clock.advance(10);
    expect(got).toEqual([]);
    expect(model.stats.droppedPartition).toBe(0); // the transport checks the cut before asking for a delay
    const network = new MemoryNetwork((fn, delay) => void clock.setTimer(delay, fn));
    network.faults = memoryTransportFaults(model);
    await network.transport('b:1').listen('b:1', () => {});
    await expect(network.transport('a:1').dial('b:1')).rejects.toMatchObject({ code: 'ERR_TRANSPORT' });
    model.restore('a', 'b');
    client.send(Buffer.from('kept'));
    await clock.advance(10);
    expect(got).toEqual(['kept']);
    model.setDown('b', true);
    client.send(Buffer.from('down'));
    await clock.advance(10);
    expect(got).toEqual(['kept']);
  });
});
