// A fast sender and a stalled receiver: full queues push back on the caller (a typed error, or
// an awaitable send that waits for room) instead of losing a message silently; lossy classes
// drop by their policy and count it; and the sender's memory stays bounded by its queue bounds.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, acceptorHandshake, decodeFrames, limits, type FrameClassName } from '../../internode/index.js';
import { Pid, RealClock, TroupeError, decode, type ProcessContext } from '../../runtime/index.js';
import { startMember, stopAll, until, waitFor } from './helpers.js';
import { identity, rawServer, type RawPeer } from './raw-peer.js';

type Limits = Record<FrameClassName, { frames: number; bytes: number; quantum: number }>;

function withLimits(over: Partial<Limits>): Limits {
  return { ...limits.CLASS_LIMITS, ...over } as Limits;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('full queues over the in-memory transport, with the write loop held', () => {
  it('user sends raise ERR_BACKPRESSURE, awaitables wait in order, lossy drops are counted, pg rejects', async () => {
    const net = new MemoryNetwork();
    // b's write loop runs only when released: as if its socket were over the high-water mark.
    const held: (() => void)[] = [];
    let holding = true;
    const defer = (fn: () => void): void => {
      if (holding) held.push(fn);
      else setImmediate(fn);
    };
    const small = { frames: 3, bytes: 1 << 20, quantum: 64 * 1024 };
    const quiet = { heartbeatIntervalMs: 1_000, downAfterMs: 60_000 };
    const a = await startMember('a', { transport: net.transport('a'), listen: 'a', ...quiet });
    const b = await startMember('b', {
      transport: net.transport('b'),
      listen: 'b',
      seeds: ['a'],
      defer,
      classLimits: withLimits({
        user: { frames: 4, bytes: 1 << 20, quantum: 64 * 1024 },
        raft: small,
        registry: small,
        pg: small,
      }),
      ...quiet,
    });
    try {
      await waitFor(b.net, () => b.net.upNodes().includes('a'));
      await until(() => a.net.upNodes().includes('b'));
      const arrived: Record<'raft' | 'registry' | 'pg', unknown[]> = { raft: [], registry: [], pg: [] };
      for (const cls of ['raft', 'registry', 'pg'] as const)
        a.net.handle(cls, (from, body) => void arrived[cls].push(body));
      const got: unknown[] = [];
      const inbox = a.node.spawn(async (ctx) => {
        for (;;) got.push(await ctx.receive());
      });

      // user: four fit, the fifth send raises a typed error in the sending process.
      const outcome: string[] = [];
      const sender = b.node.spawn(async (ctx: ProcessContext) => {
        for (let i = 0; i < 6; i++) {
          try {
            ctx.send(inbox, i);
            outcome.push(`sent ${i}`);
          } catch (err) {
            outcome.push(err instanceof TroupeError ? `${err.code} ${i}` : `other ${String(err)}`);
          }
        }
      });
      await b.node.exited(sender);
      expect(outcome).toEqual(['sent 0', 'sent 1', 'sent 2', 'sent 3', 'ERR_BACKPRESSURE 4', 'ERR_BACKPRESSURE 5']);
      expect(b.net.stats().queues.rejected.user).toBe(2);
      expect(b.net.queued('a', 'user')).toBe(4);

      // An awaitable send waits for room; an aborted one gives up and sends nothing.
      let awaited = false;
      const waiting = b.net.sendAwait(undefined, inbox, 'awaited').then(() => (awaited = true));
      const ac = new AbortController();
      const abandoned = b.net.sendAwait(undefined, inbox, 'abandoned', { signal: ac.signal });
      ac.abort();
      await expect(abandoned).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      for (let i = 0; i < 5; i++) await turn();
      expect(awaited).toBe(false);

      // raft drops the oldest, registry the newest, pg rejects.
      const results = (cls: 'raft' | 'registry' | 'pg'): string[] =>
        [0, 1, 2, 3, 4].map((i) => String(b.net.sendFrame('a', cls, [cls, i])));
      expect(results('raft')).toEqual(['queued', 'queued', 'queued', 'dropped-oldest', 'dropped-oldest']);
      expect(results('registry')).toEqual(['queued', 'queued', 'queued', 'dropped-newest', 'dropped-newest']);
      expect(results('pg')).toEqual(['queued', 'queued', 'queued', 'rejected', 'rejected']);
      const q = b.net.stats().queues;
      expect(q.dropped.raft.overflow).toBe(2);
      expect(q.dropped.registry.overflow).toBe(2);
      expect(q.rejected.pg).toBe(2);
      expect(q.dropped.user).toEqual({ overflow: 0, discarded: 0 });

      // The receiver drains: everything accepted arrives, in order; the awaited send completes last.
      holding = false;
      for (const fn of held.splice(0)) fn();
      await waiting;
      await until(() => got.length === 5 && arrived.pg.length === 3);
      expect(got).toEqual([0, 1, 2, 3, 'awaited']);
      expect(arrived.raft).toEqual([
        ['raft', 2],
        ['raft', 3],
        ['raft', 4],
      ]);
      expect(arrived.registry).toEqual([
        ['registry', 0],
        ['registry', 1],
        ['registry', 2],
      ]);
      expect(arrived.pg).toEqual([
        ['pg', 0],
        ['pg', 1],
        ['pg', 2],
      ]);
    } finally {
      holding = false;
      for (const fn of held.splice(0)) fn();
      await stopAll(b, a);
    }
  });

  it('an awaitable send waiting on a node that goes down is rejected with ERR_NO_ROUTE, not left hanging', async () => {
    const net = new MemoryNetwork();
    const held: (() => void)[] = [];
    const b = await startMember('b', {
      transport: net.transport('b'),
      listen: 'b',
      heartbeatIntervalMs: 1_000,
      downAfterMs: 60_000,
    });
    const a = await startMember('a', {
      transport: net.transport('a'),
      listen: 'a',
      seeds: ['b'],
      defer: (fn) => held.push(fn),
      classLimits: withLimits({ user: { frames: 1, bytes: 1 << 20, quantum: 1024 } }),
      heartbeatIntervalMs: 1_000,
      downAfterMs: 60_000,
    });
    try {
      await waitFor(a.net, () => a.net.upNodes().includes('b'));
      const target = b.node.spawn(async (ctx) => void (await ctx.receive()));
      await a.net.sendAwait(undefined, target, 'fills the queue');
      const waiting = a.net.sendAwait(undefined, target, 'waits');
      await b.net.stop(); // says goodbye: a declares b down at once
      await expect(waiting).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
      expect(a.net.stats().queues.dropped.user.discarded).toBe(1);
    } finally {
      for (const fn of held.splice(0)) fn();
      await stopAll(a, b);
    }
  });
});

/** A collector of full garbage collections, so heap figures measure what is live. */
function gcFunction(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

function liveBytes(gc: (() => void) | undefined): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('a flood to a receiver that stopped reading, over real WebSocket', () => {
  it('fills the bounded queue (then ERR_BACKPRESSURE) in bounded memory, loses nothing once read again', async () => {
    const userBytes = 256 * 1024;
    let sink: RawPeer | undefined;
    const server = await rawServer((peer) => {
      acceptorHandshake(peer, identity('sink', { address: '' }), new RealClock()).then(
        () => {
          peer.detach();
          peer.ws.pause(); // stop reading: TCP fills, then the sender's socket buffer, then its queue
          sink = peer;
        },
        () => {},
      );
    });
    const s = await startMember('s', {
      seeds: [server.address],
      classLimits: withLimits({ user: { frames: 100_000, bytes: userBytes, quantum: 64 * 1024 } }),
      heartbeatIntervalMs: 1_000,
      downAfterMs: 60_000,
    });
    try {
      await waitFor(s.net, () => s.net.upNodes().includes('sink'));
      await until(() => sink !== undefined);
      const target = new Pid('sink', 1, 1);
      const gc = gcFunction();
      const payload = Buffer.alloc(1_000, 7);
      const before = liveBytes(gc);

      const total = 40_000; // about 40 MB offered
      let accepted = 0;
      let refused = 0;
      for (let i = 0; i < total;) {
        for (const end = Math.min(total, i + 200); i < end; i++) {
          try {
            s.node.send(target, { seq: accepted, payload });
            accepted++;
          } catch (err) {
            expect(err).toMatchObject({ code: 'ERR_BACKPRESSURE' });
            refused++;
          }
        }
        await turn(); // let the write loop run between bursts
      }
      const after = liveBytes(gc);
      const growth = after - before;
      // What the sender may hold: its user queue, the socket buffer up to the high-water mark
      // plus one coalesced write, and a margin for everything else (the runtime, ws, the test).
      const margin = gc !== undefined ? 6 * 1024 * 1024 : 16 * 1024 * 1024;
      const bound = userBytes + limits.HIGH_WATER_MARK_BYTES + limits.COALESCE_TARGET_BYTES + margin;
      expect(refused).toBeGreaterThan(0);
      expect(accepted + refused).toBe(total);
      // most of the flood was refused, not buffered
      expect(accepted * payload.length).toBeLessThan((total * payload.length) / 2);
      expect(growth).toBeLessThan(bound);
      expect(s.net.stats().queues.dropped.user).toEqual({ overflow: 0, discarded: 0 });

      // An awaitable send waits while the receiver is stalled ...
      let awaited = false;
      const last = s.net.sendAwait(undefined, target, { seq: accepted, payload }).then(() => (awaited = true));
      for (let i = 0; i < 10; i++) await turn();
      expect(awaited).toBe(false);

      // ... and once the receiver reads again, every accepted message arrives, in order, then the awaited one.
      const seqs: number[] = [];
      sink!.setHandlers({
        message: (data) => {
          for (const f of decodeFrames(data)) {
            if (f.cls !== 'user') continue;
            const [op, , , message] = decode(f.body) as [number, unknown, unknown, { seq: number }];
            if (op === 0) seqs.push(message.seq);
          }
        },
        close: () => {},
      });
      sink!.ws.resume();
      await last;
      await until(() => seqs.length === accepted + 1, 20_000);
      expect(seqs.every((v, i) => v === i)).toBe(true);
    } finally {
      sink?.ws.resume();
      await stopAll(s);
      await server.close();
    }
  });
});
