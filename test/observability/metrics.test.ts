// Every subsystem exports its counters through @opentelemetry/api under stable names
// (troupe.<subsystem>.<what>), read only when a metrics reader collects.
import { describe, expect, it } from 'vitest';
import type { BatchObservableCallback, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { Node } from '../../runtime/index.js';
import { Internode } from '../../internode/index.js';
import { ProcessGroups } from '../../pg/index.js';
import { EventualRegistry } from '../../registry/index.js';
import { RaftHost } from '../../raft/host/index.js';
import { MemoryLogStore } from '../../raft/store/index.js';
import { VirtualClock } from '../../runtime/index.js';

/** A meter that keeps the callbacks and runs them on collect(), recording what they observe. */
class RecordingMeter {
  readonly #callbacks = new Set<{ cb: BatchObservableCallback; observables: Observable[] }>();
  readonly #names = new WeakMap<Observable, string>();
  readonly recorded = new Map<string, number[]>();

  asMeter(): Meter {
    const make = (name: string): Observable => {
      const o = { addCallback() {}, removeCallback() {} } as unknown as Observable;
      this.#names.set(o, name);
      return o;
    };
    return {
      createObservableCounter: make,
      createObservableGauge: make,
      createObservableUpDownCounter: make,
      createHistogram: (name: string) => ({
        record: (value: number) => this.recorded.set(name, [...(this.recorded.get(name) ?? []), value]),
      }),
      addBatchObservableCallback: (cb: BatchObservableCallback, observables: Observable[]) =>
        void this.#callbacks.add({ cb, observables }),
      removeBatchObservableCallback: (cb: BatchObservableCallback) => {
        for (const entry of this.#callbacks) if (entry.cb === cb) this.#callbacks.delete(entry);
      },
    } as unknown as Meter;
  }

  async collect(): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    for (const { cb } of this.#callbacks) {
      const result: BatchObservableResult = {
        observe: (o: Observable, value: number, attrs?: Record<string, unknown>) => {
          const key = `${this.#names.get(o)}${attrs?.reason !== undefined ? `{${String(attrs.reason)}}` : ''}`;
          seen.set(key, (seen.get(key) ?? 0) + value);
        },
      };
      await cb(result);
    }
    return seen;
  }

  get callbacks(): number {
    return this.#callbacks.size;
  }
}

describe('metrics', () => {
  it('runtime, internode, pg and the eventual registry report counters when collected, and stop on stop', async () => {
    const rec = new RecordingMeter();
    const meter = rec.asMeter();
    const node = await Node.start({ name: 'm', incarnation: 1, meter });
    const net = await Internode.start({
      node,
      cluster: 'm',
      secret: 'metrics-test-secret-123',
      listen: '127.0.0.1:0',
      meter,
    });
    const pg = ProcessGroups.start({ node, internode: net, meter });
    const names = EventualRegistry.start({ node, internode: net, meter });
    const p = node.spawn(async (ctx) => void (await ctx.receive()));
    pg.join('g', p);
    names.register('n', p);
    const dead = node.spawn(() => {});
    await node.exited(dead);
    node.send(dead, 'lost');

    const seen = await rec.collect();
    expect(seen.get('troupe.runtime.processes')).toBe(1);
    expect(seen.get('troupe.runtime.spawned')).toBe(2);
    expect(seen.get('troupe.runtime.messages.dropped{dead_process}')).toBe(1);
    expect(seen.get('troupe.internode.nodes.up')).toBe(0);
    expect(seen.has('troupe.internode.frames.dropped{overflow}')).toBe(true);
    expect(seen.has('troupe.pg.messagesApplied')).toBe(true);
    expect(seen.get('troupe.registry.eventual.registrations')).toBe(1);

    await names.stop();
    await pg.stop();
    await net.stop();
    await node.stop();
    expect(rec.callbacks).toBe(0);
  });

  it('the raft host reports proposals by outcome, role, term, commit and applied per group, and stops', async () => {
    const rec = new RecordingMeter();
    const clock = new VirtualClock();
    const host = new RaftHost({ self: 'm', store: new MemoryLogStore(), clock, meter: rec.asMeter() });
    const tenant = { apply: (_c: Uint8Array, i: number) => i, snapshot: () => new Uint8Array(0), restore() {} };
    const group = await host.addGroup({ id: 'g', tenant, bootstrap: { voters: ['m'], learners: [] } });
    while (group.status().role !== 'leader') await clock.advance(50);
    const done = group.propose(new Uint8Array([1]));
    await clock.advance(1);
    await done;
    const seen = await rec.collect();
    expect(seen.get('troupe.raft.proposals')).toBe(1);
    expect(seen.get('troupe.raft.role')).toBe(1); // one group, in one role
    expect(seen.get('troupe.raft.term')).toBeGreaterThanOrEqual(1);
    expect(seen.get('troupe.raft.commit')).toBeGreaterThanOrEqual(2);
    expect(seen.get('troupe.raft.applied')).toBe(seen.get('troupe.raft.commit'));
    expect(seen.has('troupe.raft.elections')).toBe(true);
    expect(rec.recorded.get('troupe.raft.persist.duration')?.length).toBeGreaterThan(0);
    expect(rec.recorded.get('troupe.raft.persist.entries')?.some((n) => n >= 1)).toBe(true);
    await host.stop();
    expect(rec.callbacks).toBe(0);
  });
});
