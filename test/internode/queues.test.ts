// Per-class outbound queues: each class overflows by its own policy with a counter for every
// drop, `force` admits runtime signals, the drain is deficit round robin in priority order (no
// class starves), and senders waiting for room are served first come, first served.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLASS_ID,
  FRAME_CLASSES,
  InternodeError,
  OutboundQueues,
  encodeFrame,
  limits,
  newQueueCounters,
  type FrameClassName,
} from '../../internode/index.js';

type Limits = Record<FrameClassName, { frames: number; bytes: number; quantum: number }>;

const uniform = (l: { frames: number; bytes: number; quantum: number }): Limits =>
  Object.fromEntries(FRAME_CLASSES.map((c) => [c, l])) as Limits;

/** A frame of exactly `size` bytes whose body starts with a sequence number. */
function frame(cls: FrameClassName, seq: number, size = 20): Buffer {
  const body = Buffer.alloc(size - limits.FRAME_HEADER_BYTES);
  body.writeUInt32BE(seq, 0);
  return encodeFrame(cls, body);
}
const seqOf = (f: Buffer): number => f.readUInt32BE(limits.FRAME_HEADER_BYTES);
const clsOf = (f: Buffer): FrameClassName => FRAME_CLASSES.find((c) => CLASS_ID[c] === f[1])!;

function drainAll(q: OutboundQueues, budget = 1 << 20): Buffer[] {
  const out: Buffer[] = [];
  for (let batch = q.drain(budget); batch.length > 0; batch = q.drain(budget)) out.push(...batch);
  return out;
}

describe('overflow policies', () => {
  it('raft drops the oldest frames to admit the newest, and counts each drop', () => {
    const counters = newQueueCounters();
    const q = new OutboundQueues(counters, uniform({ frames: 3, bytes: 10_000, quantum: 1_000 }));
    for (let i = 0; i < 3; i++) expect(q.enqueue('raft', frame('raft', i))).toBe('queued');
    expect(q.enqueue('raft', frame('raft', 3))).toBe('dropped-oldest');
    expect(q.enqueue('raft', frame('raft', 4))).toBe('dropped-oldest');
    expect(counters.dropped.raft.overflow).toBe(2);
    expect(drainAll(q).map(seqOf)).toEqual([2, 3, 4]);
  });

  it('raft evicts by bytes too: as many old frames as the new one needs', () => {
    const counters = newQueueCounters();
    const q = new OutboundQueues(counters, uniform({ frames: 100, bytes: 100, quantum: 1_000 }));
    for (let i = 0; i < 5; i++) q.enqueue('raft', frame('raft', i, 20));
    expect(q.enqueue('raft', frame('raft', 5, 50))).toBe('dropped-oldest');
    expect(counters.dropped.raft.overflow).toBe(3);
    expect(drainAll(q).map(seqOf)).toEqual([3, 4, 5]);
  });

  it('raft does not flush its queue for a frame that could never fit', () => {
    const counters = newQueueCounters();
    const q = new OutboundQueues(counters, uniform({ frames: 100, bytes: 100, quantum: 1_000 }));
    for (let i = 0; i < 4; i++) q.enqueue('raft', frame('raft', i, 20));
    expect(q.enqueue('raft', frame('raft', 99, 101))).toBe('dropped-newest');
    expect(counters.dropped.raft.overflow).toBe(1);
    expect(drainAll(q).map(seqOf)).toEqual([0, 1, 2, 3]);
  });

  it('registry drops the newest frame and keeps what it holds', () => {
    const counters = newQueueCounters();
    const q = new OutboundQueues(counters, uniform({ frames: 3, bytes: 10_000, quantum: 1_000 }));
    for (let i = 0; i < 3; i++) expect(q.enqueue('registry', frame('registry', i))).toBe('queued');
    expect(q.enqueue('registry', frame('registry', 3))).toBe('dropped-newest');
    expect(q.enqueue('registry', frame('registry', 4))).toBe('dropped-newest');
    expect(counters.dropped.registry.overflow).toBe(2);
    expect(drainAll(q).map(seqOf)).toEqual([0, 1, 2]);
  });

  it.each(['control', 'pg', 'user'] as const)(
    '%s rejects when full (frames or bytes), counts it, and loses nothing queued',
    (cls) => {
      const counters = newQueueCounters();
      const q = new OutboundQueues(counters, uniform({ frames: 3, bytes: 50, quantum: 1_000 }));
      expect(q.enqueue(cls, frame(cls, 0))).toBe('queued');
      expect(q.enqueue(cls, frame(cls, 1))).toBe('queued');
      expect(q.enqueue(cls, frame(cls, 2))).toBe('rejected'); // 60 bytes > 50
      expect(q.enqueue(cls, frame(cls, 3, 10))).toBe('queued');
      expect(q.enqueue(cls, frame(cls, 4, 10))).toBe('rejected'); // 4th frame > 3 frames
      expect(counters.rejected[cls]).toBe(2);
      expect(counters.dropped[cls]).toEqual({ overflow: 0, discarded: 0 });
      expect(drainAll(q).map(seqOf)).toEqual([0, 1, 3]);
    },
  );

  it('force admits a frame past every bound, for every class, without dropping anything', () => {
    for (const cls of FRAME_CLASSES) {
      const counters = newQueueCounters();
      const q = new OutboundQueues(counters, uniform({ frames: 2, bytes: 40, quantum: 1_000 }));
      q.enqueue(cls, frame(cls, 0));
      q.enqueue(cls, frame(cls, 1));
      expect(q.enqueue(cls, frame(cls, 2), true)).toBe('queued');
      expect(q.length(cls)).toBe(3);
      expect(q.hasRoom(cls, 1)).toBe(false);
      expect(counters.rejected[cls] + counters.dropped[cls].overflow).toBe(0);
      expect(drainAll(q).map(seqOf)).toEqual([0, 1, 2]);
    }
  });

  it('keeps total frame and byte counts exact under any mix of enqueues and drains', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('enqueue' as const),
              cls: fc.constantFrom(...FRAME_CLASSES),
              size: fc.integer({ min: 10, max: 120 }),
              force: fc.boolean(),
            }),
            fc.record({ op: fc.constant('drain' as const), budget: fc.integer({ min: 1, max: 400 }) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const counters = newQueueCounters();
          const q = new OutboundQueues(counters, uniform({ frames: 6, bytes: 300, quantum: 50 }));
          const model = new Map<FrameClassName, Buffer[]>(FRAME_CLASSES.map((c) => [c, []]));
          let seq = 0;
          for (const op of ops) {
            if (op.op === 'enqueue') {
              const f = frame(op.cls, seq++, op.size);
              const m = model.get(op.cls)!;
              const r = q.enqueue(op.cls, f, op.force);
              if (r === 'queued' || r === 'dropped-oldest') m.push(f);
              if (r === 'dropped-oldest') {
                // The model evicts like the policy says: oldest first until the new one fits.
                let bytes = m.reduce((n, x) => n + x.length, 0);
                while (m.length > 6 || bytes > 300) bytes -= m.shift()!.length;
              }
            } else {
              for (const f of q.drain(op.budget)) expect(model.get(clsOf(f))!.shift()).toBe(f);
            }
            const frames = [...model.values()].reduce((n, m) => n + m.length, 0);
            const bytes = [...model.values()].reduce((n, m) => n + m.reduce((k, x) => k + x.length, 0), 0);
            expect(q.totalFrames).toBe(frames);
            expect(q.totalBytes).toBe(bytes);
          }
        },
      ),
    );
  });
});

describe('deficit round robin drain', () => {
  it('serves control first, then every class each round, even with the real limits and the write loop budget', () => {
    const q = new OutboundQueues(newQueueCounters());
    const size = 1_024;
    const per = 2_000; // about 2 MiB per class: far more than one drain or one round takes
    let seq = 0;
    // force: far past the control bound, so that control stays saturated for the whole test
    for (const cls of FRAME_CLASSES)
      for (let i = 0; i < per; i++) expect(q.enqueue(cls, frame(cls, seq++, size), true)).toBe('queued');
    const first = q.drain(limits.COALESCE_TARGET_BYTES);
    expect(clsOf(first[0]!)).toBe('control');
    // One round gives each class its quantum; over any window of drains as long as a round,
    // every class is served.
    const roundBytes = FRAME_CLASSES.reduce((n, c) => n + limits.CLASS_LIMITS[c].quantum, 0);
    const drainsPerRound = Math.ceil(roundBytes / limits.COALESCE_TARGET_BYTES) + 1;
    const drains: FrameClassName[][] = [first.map(clsOf)];
    for (let i = 0; i < 3 * drainsPerRound; i++) drains.push(q.drain(limits.COALESCE_TARGET_BYTES).map(clsOf));
    for (let start = 0; start + drainsPerRound <= drains.length; start++) {
      const served = new Set(drains.slice(start, start + drainsPerRound).flat());
      expect([...served].sort()).toEqual([...FRAME_CLASSES].sort());
    }
    // Bytes per class follow the quanta.
    const bytes = Object.fromEntries(FRAME_CLASSES.map((c) => [c, 0])) as Record<FrameClassName, number>;
    for (const d of drains.slice(0, 2 * drainsPerRound)) for (const c of d) bytes[c] += size;
    expect(bytes.control).toBeGreaterThan(bytes.raft);
    expect(bytes.raft).toBeGreaterThan(bytes.registry);
  });

  it('never starves a class: all saturated, each round serves every class (any quanta >= a frame, any budget)', () => {
    fc.assert(
      fc.property(
        fc.record(
          Object.fromEntries(FRAME_CLASSES.map((c) => [c, fc.integer({ min: 64, max: 400 })])) as Record<
            FrameClassName,
            fc.Arbitrary<number>
          >,
        ),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 10, max: 64 }),
        (quanta, budget, size) => {
          const lim = Object.fromEntries(
            FRAME_CLASSES.map((c) => [c, { frames: 10_000, bytes: 1 << 30, quantum: quanta[c] }]),
          ) as Limits;
          const q = new OutboundQueues(newQueueCounters(), lim);
          for (const cls of FRAME_CLASSES) for (let i = 0; i < 500; i++) q.enqueue(cls, frame(cls, i, size));
          // A round takes at most the sum of the quanta (plus one frame of slack per class).
          const round = FRAME_CLASSES.reduce((n, c) => n + quanta[c] + size, 0);
          const drains: FrameClassName[][] = [];
          let first: FrameClassName | undefined;
          let taken = 0;
          while (taken < 3 * round) {
            const d = q.drain(budget);
            expect(d.length).toBeGreaterThan(0);
            first ??= clsOf(d[0]!);
            drains.push(d.map(clsOf));
            taken += d.length * size;
          }
          expect(first).toBe('control');
          // Sliding windows of one round's worth of bytes (plus one drain) see every class.
          const flat = drains.flat();
          const window = Math.ceil(round / size) + Math.ceil(budget / size) + 1;
          for (let start = 0; start + window <= flat.length; start += Math.max(1, Math.floor(window / 3))) {
            expect(new Set(flat.slice(start, start + window)).size).toBe(FRAME_CLASSES.length);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('sends a frame larger than the budget and every quantum alone, after deficits grow', () => {
    const q = new OutboundQueues(newQueueCounters(), uniform({ frames: 10, bytes: 100_000, quantum: 10 }));
    q.enqueue('user', frame('user', 7, 5_000));
    q.enqueue('pg', frame('pg', 8, 20));
    const out = drainAll(q, 100);
    expect(out.map(seqOf).sort()).toEqual([7, 8]);
    expect(q.totalFrames).toBe(0);
  });

  it('keeps the order of frames within a class', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...FRAME_CLASSES), fc.integer({ min: 10, max: 200 })), { maxLength: 100 }),
        fc.integer({ min: 1, max: 500 }),
        (items, budget) => {
          const q = new OutboundQueues(newQueueCounters(), uniform({ frames: 1_000, bytes: 1 << 20, quantum: 64 }));
          items.forEach(([cls, size], i) => q.enqueue(cls, frame(cls, i, size)));
          const out = drainAll(q, budget);
          expect(out.length).toBe(items.length);
          for (const cls of FRAME_CLASSES) {
            const seqs = out.filter((f) => clsOf(f) === cls).map(seqOf);
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          }
        },
      ),
    );
  });
});

describe('waiting for room', () => {
  const small = (): { q: OutboundQueues; counters: ReturnType<typeof newQueueCounters> } => {
    const counters = newQueueCounters();
    return { q: new OutboundQueues(counters, uniform({ frames: 2, bytes: 1_000, quantum: 1_000 })), counters };
  };

  it('resolves at once when there is room and nobody waits', async () => {
    const { q } = small();
    await q.waitForRoom('user', 10);
  });

  it('resolves waiters first come, first served as room returns; a later small waiter does not overtake', async () => {
    const { q } = small();
    q.enqueue('user', frame('user', 0));
    q.enqueue('user', frame('user', 1));
    const order: string[] = [];
    const a = q.waitForRoom('user', 20).then(() => order.push('a'));
    const big = q.waitForRoom('user', 990).then(() => order.push('big'));
    const c = q.waitForRoom('user', 20).then(() => order.push('c'));
    // Room exists now for a small frame, but others wait: a newcomer waits behind them.
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    expect(q.drain(20).length).toBe(1); // one frame leaves: room for `a`, not for `big`
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['a']);
    expect(q.drain(20).length).toBe(1); // empty now: big fits, then c
    await Promise.all([a, big, c]);
    expect(order).toEqual(['a', 'big', 'c']);
  });

  it('rejects on abort (already aborted or later), and the next waiter still gets room', async () => {
    const { q } = small();
    q.enqueue('user', frame('user', 0));
    q.enqueue('user', frame('user', 1));
    const gone = new AbortController();
    gone.abort('no');
    await expect(q.waitForRoom('user', 10, { signal: gone.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const ac = new AbortController();
    const first = q.waitForRoom('user', 10, { signal: ac.signal });
    const second = q.waitForRoom('user', 10);
    ac.abort(new Error('caller gave up'));
    await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    q.drain(20);
    await second;
  });

  it('rejects every waiter with the reason on discard, and counts the discarded frames', async () => {
    const { q, counters } = small();
    q.enqueue('user', frame('user', 0));
    q.enqueue('user', frame('user', 1));
    q.enqueue('raft', frame('raft', 2));
    const waiters = [q.waitForRoom('user', 10), q.waitForRoom('user', 10)];
    const reason = new InternodeError('ERR_NO_ROUTE', 'peer departed');
    expect(q.discard(reason)).toBe(3);
    for (const w of waiters) await expect(w).rejects.toBe(reason);
    expect(counters.dropped.user.discarded).toBe(2);
    expect(counters.dropped.raft.discarded).toBe(1);
    expect(q.totalFrames).toBe(0);
    expect(q.totalBytes).toBe(0);
  });

  it(`bounds the waiters at MAX_ROOM_WAITERS (${limits.MAX_ROOM_WAITERS}) with ERR_LIMIT`, async () => {
    const { q } = small();
    q.enqueue('user', frame('user', 0));
    q.enqueue('user', frame('user', 1));
    const waiting: Promise<void>[] = [];
    for (let i = 0; i < limits.MAX_ROOM_WAITERS; i++) waiting.push(q.waitForRoom('user', 10));
    await expect(q.waitForRoom('user', 10)).rejects.toMatchObject({ code: 'ERR_LIMIT' });
    // Another class has its own waiters.
    q.enqueue('pg', frame('pg', 0));
    q.enqueue('pg', frame('pg', 1));
    const pgWaiter = q.waitForRoom('pg', 10);
    const reason = new Error('done');
    q.discard(reason);
    await expect(pgWaiter).rejects.toBe(reason);
    const settled = await Promise.allSettled(waiting);
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
  });
});
