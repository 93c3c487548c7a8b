import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Pid, decode, encode, isTroupeError } from '../../../runtime/base.js';
import { ConsistentNamesMachine, ConsistentNamesTenant, NameWatchHub } from '../../../registry/index.js';
import type { NameEvent, NameOperation, NameResult, NamesBatchResult } from '../../../registry/index.js';
import { consistentNamesLimits as L } from '../../../registry/index.js';

const a1 = new Pid('a', 1, 100);
const a2 = new Pid('a', 2, 100);
const b1 = new Pid('b', 1, 200);

/** A replica fed one batch per index; returns each batch's results. */
function replica() {
  const m = new ConsistentNamesMachine();
  let index = 0;
  const run = (...ops: NameOperation[]): NameResult[] => {
    const out = m.apply({ type: 'batch', ops }, ++index);
    expect(out.result.type).toBe('batch');
    return [...(out.result as NamesBatchResult).results];
  };
  return { m, run, index: () => index };
}

describe('the consistent registry state machine', () => {
  it('two registrations racing for one name: the first in the log wins, the second is told the owner', () => {
    const { m, run } = replica();
    const [first, second] = run({ op: 'register', name: 'svc', pid: a1 }, { op: 'register', name: 'svc', pid: b1 });
    expect(first).toEqual({ type: 'registered', fence: 1 });
    expect(second).toMatchObject({ type: 'conflict', fence: 1 });
    expect((second as { owner: Pid }).owner.toString()).toBe(a1.toString());
    expect(m.whereis('svc')?.pid.toString()).toBe(a1.toString());
  });

  it('re-registering the same pid is idempotent: same fence, no event', () => {
    const { run, m } = replica();
    run({ op: 'register', name: 'svc', pid: a1 });
    const out = m.apply({ type: 'batch', ops: [{ op: 'register', name: 'svc', pid: new Pid('a', 1, 100) }] }, 2);
    expect(out.result).toEqual({ type: 'batch', results: [{ type: 'registered', fence: 1 }] });
    expect(out.events).toEqual([]);
  });

  it('fences only grow: a name bound again gets the index of the entry that bound it', () => {
    const { run } = replica();
    run({ op: 'register', name: 'svc', pid: a1 });
    run({ op: 'unregister', name: 'svc', by: 'a' });
    run({ op: 'register', name: 'other', pid: a1 });
    expect(run({ op: 'register', name: 'svc', pid: b1 })).toEqual([{ type: 'registered', fence: 4 }]);
  });

  it('unregister only from the owner node, or with the current fence; a stale fence is refused', () => {
    const { run, m } = replica();
    run({ op: 'register', name: 'svc', pid: a1 });
    expect(run({ op: 'unregister', name: 'svc', by: 'b' })[0]).toMatchObject({
      type: 'error',
      code: 'ERR_NAMES_NOT_OWNER',
      fence: 1,
    });
    expect(run({ op: 'unregister', name: 'svc', by: 'b', fence: 7 })[0]).toMatchObject({
      code: 'ERR_NAMES_STALE_FENCE',
      fence: 1,
    });
    expect(m.whereis('svc')).toBeDefined();
    expect(run({ op: 'unregister', name: 'svc', by: 'b', fence: 1 })).toEqual([{ type: 'unregistered', fence: 1 }]);
    expect(run({ op: 'unregister', name: 'svc', by: 'a' })).toEqual([{ type: 'not-registered' }]);
  });

  it('a name dies with its owner: one exits operation removes every name of many pids', () => {
    const { run, m } = replica();
    run(
      { op: 'register', name: 'x', pid: a1 },
      { op: 'register', name: 'y', pid: a1 },
      { op: 'register', name: 'z', pid: a2 },
      { op: 'register', name: 'keep', pid: b1 },
    );
    const out = m.apply({ type: 'batch', ops: [{ op: 'exits', pids: [a1, a2] }] }, 2);
    expect(out.result).toEqual({ type: 'batch', results: [{ type: 'removed', count: 3 }] });
    expect(out.events.map((e) => [e.type, e.name, e.type === 'unregistered' && e.reason])).toEqual([
      ['unregistered', 'x', 'exit'],
      ['unregistered', 'y', 'exit'],
      ['unregistered', 'z', 'exit'],
    ]);
    expect([...m.bindings()].map((b) => b.name)).toEqual(['keep']);
  });

  it('a node down past the grace loses its names in chunks, so that other entries interleave', () => {
    const { run, m } = replica();
    const ops: NameOperation[] = [];
    for (let i = 0; i < 5; i++) ops.push({ op: 'register', name: `n${i}`, pid: a1 });
    for (let i = 5; i < 10; i++) ops.push({ op: 'register', name: `n${i}`, pid: a2 });
    run(...ops);
    expect(run({ op: 'purge', node: 'a', limit: 4 })).toEqual([{ type: 'purged', count: 4, more: true }]);
    expect(run({ op: 'register', name: 'between', pid: b1 })[0]).toMatchObject({ type: 'registered' });
    expect(run({ op: 'purge', node: 'a', limit: 4 })).toEqual([{ type: 'purged', count: 4, more: true }]);
    expect(run({ op: 'purge', node: 'a', limit: 4 })).toEqual([{ type: 'purged', count: 2, more: false }]);
    expect(m.namesOf('a')).toBe(0);
    expect(m.whereis('between')).toBeDefined();
  });

  it('a node back with a new incarnation never keeps the names of the old one', () => {
    const { run, m } = replica();
    run({ op: 'register', name: 'old', pid: a1 }, { op: 'register', name: 'taken', pid: a1 });
    const reborn = new Pid('a', 1, 101);
    // The restarted node registers something: from here on the old incarnation's names are dead.
    expect(run({ op: 'register', name: 'taken', pid: reborn })).toEqual([{ type: 'registered', fence: 2 }]);
    expect(m.whereis('old')).toBeUndefined();
    expect(m.whereis('taken')?.pid.incarnation).toBe(101);
    // A late registration from the old incarnation is refused.
    expect(run({ op: 'register', name: 'late', pid: a2 })[0]).toMatchObject({ code: 'ERR_NAMES_STALE_OWNER' });
    // The leader's purge of older incarnations removes what is left, keeping the new one's.
    expect(run({ op: 'purge', node: 'a', belowIncarnation: 101, limit: 10 })).toEqual([
      { type: 'purged', count: 1, more: false },
    ]);
    expect(m.size).toBe(1);
  });

  it('a purge naming a newer incarnation kills the older names at once, before they are removed', () => {
    const { run, m } = replica();
    run({ op: 'register', name: 'x', pid: a1 }, { op: 'register', name: 'y', pid: a1 });
    run({ op: 'purge', node: 'a', belowIncarnation: 150, limit: 1 });
    expect(m.whereis('x') ?? m.whereis('y')).toBeUndefined();
    expect(m.size).toBe(1);
    expect(run({ op: 'register', name: 'z', pid: a1 })[0]).toMatchObject({ code: 'ERR_NAMES_STALE_OWNER' });
  });

  it('names per pid are bounded, with a typed error naming the limit', () => {
    const { run } = replica();
    const ops: NameOperation[] = [];
    for (let i = 0; i <= L.MAX_NAMES_PER_PID; i++) ops.push({ op: 'register', name: `n${i}`, pid: a1 });
    const results = run(...ops);
    expect(results.filter((r) => r.type === 'registered')).toHaveLength(L.MAX_NAMES_PER_PID);
    expect(results.at(-1)).toMatchObject({ code: 'ERR_NAMES_LIMIT', limit: 'MAX_NAMES_PER_PID' });
  });

  it('malformed commands and bad names get typed results, and nothing applied changes', () => {
    const m = new ConsistentNamesMachine();
    for (const bad of [null, 5, { type: 'batch', ops: [] }, { type: 'x' }, { type: 'batch', ops: [{ op: 'nope' }] }])
      expect(m.apply(bad, m.revision + 1).result).toMatchObject({ code: 'ERR_NAMES_BAD_COMMAND' });
    const long = 'é'.repeat(200); // 400 bytes
    expect(
      m.apply({ type: 'batch', ops: [{ op: 'register', name: long, pid: a1 }] }, m.revision + 1).result,
    ).toMatchObject({ code: 'ERR_NAMES_BAD_COMMAND' });
    expect(m.size).toBe(0);
    expect(() => m.apply({ type: 'batch', ops: [] }, 1)).toThrow(RangeError);
  });

  it('commands survive the wire: a batch encoded with the runtime codec applies the same', () => {
    const { m } = replica();
    const cmd = decode(encode({ type: 'batch', ops: [{ op: 'register', name: 'w', pid: a1 }] }));
    expect(m.apply(cmd, 1).result).toEqual({ type: 'batch', results: [{ type: 'registered', fence: 1 }] });
  });

  it('snapshot and restore round-trip: a restored replica answers as the original for any history', () => {
    const pids = [a1, a2, b1, new Pid('a', 1, 101), new Pid('c', 3, 1)];
    const op = fc.oneof(
      fc.record({
        op: fc.constant('register' as const),
        name: fc.constantFrom('p', 'q', 'r', 's'),
        pid: fc.constantFrom(...pids),
      }),
      fc.record({
        op: fc.constant('unregister' as const),
        name: fc.constantFrom('p', 'q', 'r'),
        by: fc.constantFrom('a', 'b', 'c'),
      }),
      fc.record({ op: fc.constant('exits' as const), pids: fc.array(fc.constantFrom(...pids), { maxLength: 2 }) }),
      fc.record({
        op: fc.constant('purge' as const),
        node: fc.constantFrom('a', 'b', 'c'),
        limit: fc.integer({ min: 1, max: 3 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { maxLength: 12 }),
        fc.array(op, { minLength: 1, maxLength: 6 }),
        (history, after) => {
          const original = new ConsistentNamesMachine();
          history.forEach((ops, i) => original.apply({ type: 'batch', ops }, i + 1));
          const copy = new ConsistentNamesMachine();
          copy.restore(original.snapshot());
          expect(copy.revision).toBe(original.revision);
          const next = original.revision + 1;
          expect(copy.apply({ type: 'batch', ops: after }, next)).toEqual(
            original.apply({ type: 'batch', ops: after }, next),
          );
          expect(copy.snapshot()).toEqual(original.snapshot());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bad snapshot bytes are refused with ERR_NAMES_BAD_SNAPSHOT and leave the state as it was', () => {
    const { run, m } = replica();
    run({ op: 'register', name: 'x', pid: a1 });
    for (const bytes of [new Uint8Array([0xc1]), encode([2, 1, [], []]), encode([1, 1, ['x', 'not a pid', 1], []])]) {
      let error: unknown;
      try {
        m.restore(bytes);
      } catch (e) {
        error = e;
      }
      expect(isTroupeError(error, 'ERR_NAMES_BAD_SNAPSHOT')).toBe(true);
    }
    expect(m.whereis('x')).toBeDefined();
  });
});

describe('the consistent registry tenant', () => {
  it('applies encoded batches, feeds a watch in revision order, and ends watches on restore', async () => {
    const hub = new NameWatchHub();
    const tenant = new ConsistentNamesTenant(hub);
    const watch = hub.watch('', { prefix: 'svc/' }, tenant.machine.revision);
    expect(tenant.apply(encode({ type: 'batch', ops: [{ op: 'register', name: 'svc/a', pid: a1 }] }), 1)).toEqual({
      type: 'batch',
      results: [{ type: 'registered', fence: 1 }],
    });
    tenant.apply(encode({ type: 'batch', ops: [{ op: 'register', name: 'other', pid: a1 }] }), 2);
    tenant.apply(encode({ type: 'batch', ops: [{ op: 'exits', pids: [a1] }] }), 3);
    expect(tenant.apply(new Uint8Array([0xc1]), 4)).toMatchObject({ code: 'ERR_NAMES_BAD_COMMAND' });
    const seen = [(await watch.next()).value, (await watch.next()).value] as NameEvent[];
    expect(seen.map((e) => [e.type, e.name, e.revision])).toEqual([
      ['registered', 'svc/a', 1],
      ['unregistered', 'svc/a', 3],
    ]);
    // A watch may start in the past, from a retained revision.
    const replay = hub.watch('', { name: 'other' }, tenant.machine.revision, { fromRevision: 1 });
    expect(((await replay.next()).value as NameEvent).revision).toBe(2);
    const image = tenant.snapshot();
    tenant.restore(image);
    await expect(watch.next()).rejects.toMatchObject({ code: 'ERR_NAMES_WATCH_BEHIND', resumeRevision: 4 });
    expect(() => hub.watch('', { name: 'x' }, 4, { fromRevision: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_NAMES_COMPACTED' }),
    );
    replay.close();
  });
});
