// Laws of the KV state machine, under fast-check:
//  - it agrees with a plain Map model on every result and every read, at every retained revision;
//  - the space revision goes up by exactly one on each command that changed something (and
//    its events carry that revision), and never otherwise;
//  - snapshot/restore: a machine restored from a snapshot returns identical results and events
//    for any later sequence of commands, and ends in a byte-identical snapshot;
//  - any junk command is a typed error result (never a throw); junk snapshot bytes are refused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvError, KvStateMachine, type KvCommand, type TxnOp } from '../../kv/index.js';

const SPACES = ['s', 't'];
const key = fc.constantFrom('a', 'ab', 'b', 'ba', 'c');
const value = fc.oneof(fc.constantFrom('1', '2', '3'), fc.constant(new Uint8Array([1, 2])));
type KeyedTxnOp = Exclude<TxnOp, { prefix: string }>;
const txnOp: fc.Arbitrary<KeyedTxnOp> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key, value }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('get' as const), key }),
);

/** Commands on space `s` that the Map model below understands. */
const modelCommand: fc.Arbitrary<KvCommand> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), space: fc.constant('s'), key, value }),
  fc.record({ type: fc.constant('delete' as const), space: fc.constant('s'), key }),
  fc.record({ type: fc.constant('delete' as const), space: fc.constant('s'), prefix: fc.constantFrom('a', 'b', '') }),
  fc.record({
    type: fc.constant('cas' as const),
    space: fc.constant('s'),
    key,
    value,
    expected: fc.oneof(
      fc.record({ value }),
      fc.record({ modRevision: fc.integer({ min: 0, max: 12 }) }),
      fc.constant({ absent: true as const }),
    ),
  }),
  fc.record({
    type: fc.constant('txn' as const),
    space: fc.constant('s'),
    compare: fc.array(
      fc.record({
        key,
        target: fc.constant('version' as const),
        op: fc.constantFrom('==' as const, '>' as const),
        against: fc.integer({ min: 0, max: 2 }),
      }),
      { maxLength: 2 },
    ),
    success: fc.uniqueArray(txnOp, { maxLength: 3, selector: (o) => o.key }),
    failure: fc.uniqueArray(txnOp, { maxLength: 3, selector: (o) => o.key }),
  }),
);

/** Every kind of command, over two spaces, including leases, time and compaction. */
const anyCommand: fc.Arbitrary<KvCommand> = fc.oneof(
  { weight: 6, arbitrary: modelCommand.map((c) => c) },
  {
    weight: 3,
    arbitrary: fc.tuple(modelCommand, fc.constantFrom(...SPACES)).map(([c, space]) => ({ ...c, space }) as KvCommand),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('put' as const),
      space: fc.constantFrom(...SPACES),
      key,
      value,
      lease: fc.integer({ min: 1, max: 30 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('lease-grant' as const),
      space: fc.constantFrom(...SPACES),
      ttlMs: fc.integer({ min: 1000, max: 5000 }),
      now: fc.integer({ min: 0, max: 20_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('lease-keepalive' as const),
      space: fc.constantFrom(...SPACES),
      id: fc.integer({ min: 1, max: 30 }),
      now: fc.integer({ min: 0, max: 20_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('lease-revoke' as const),
      space: fc.constantFrom(...SPACES),
      id: fc.integer({ min: 1, max: 30 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('expire-leases' as const), now: fc.integer({ min: 0, max: 30_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('leader-changed' as const),
      now: fc.integer({ min: 0, max: 30_000 }),
      electionMs: fc.integer({ min: 0, max: 3000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('compact' as const),
      space: fc.constantFrom(...SPACES),
      revision: fc.integer({ min: 0, max: 20 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('space-define' as const),
      space: fc.constantFrom(...SPACES),
      limits: fc.record({ retainedRevisions: fc.integer({ min: 1, max: 6 }), maxKeys: fc.integer({ min: 2, max: 5 }) }),
    }),
  },
);

function fresh(): KvStateMachine {
  const m = new KvStateMachine();
  m.apply({ type: 'space-define', space: 's', limits: { retainedRevisions: 1000 } }, 1);
  m.apply({ type: 'space-define', space: 't', limits: { retainedRevisions: 3 } }, 2);
  return m;
}

const KEYS = ['a', 'ab', 'b', 'ba', 'c'];
type Model = Map<string, { value: string | Uint8Array; create: number; mod: number; version: number }>;

/** The plain model: one Map and a revision counter. Returns [result summary, next model, next revision]. */
function modelApply(m: Model, rev: number, c: KvCommand): [unknown, Model, number] {
  const next: Model = new Map(m);
  const r = rev + 1;
  let changed = false;
  const put = (k: string, v: string | Uint8Array): void => {
    const cur = next.get(k);
    next.set(k, { value: v, create: cur?.create ?? r, mod: r, version: (cur?.version ?? 0) + 1 });
    changed = true;
  };
  const del = (k: string): number => (next.delete(k) ? ((changed = true), 1) : 0);
  let summary: unknown;
  switch (c.type) {
    case 'put':
      put(c.key, c.value);
      summary = 'put';
      break;
    case 'delete':
      summary = ('prefix' in c ? KEYS.filter((k) => k.startsWith(c.prefix)) : [c.key]).reduce((n, k) => n + del(k), 0);
      break;
    case 'cas': {
      const cur = m.get(c.key);
      const e = c.expected;
      const ok =
        'absent' in e
          ? cur === undefined
          : 'modRevision' in e
            ? (cur?.mod ?? 0) === e.modRevision
            : cur !== undefined &&
              JSON.stringify(cur.value) === JSON.stringify(e.value) &&
              typeof cur.value === typeof e.value;
      if (ok) put(c.key, c.value);
      summary = ok;
      break;
    }
    case 'txn': {
      const ok = c.compare.every((x) => {
        const v = m.get(x.key)?.version ?? 0;
        return x.op === '==' ? v === x.against : v > (x.against as number);
      });
      const results = (ok ? c.success : c.failure).map((op) =>
        'prefix' in op
          ? 0
          : op.op === 'put'
            ? (put(op.key, op.value), 'put')
            : op.op === 'delete'
              ? del(op.key)
              : (next.get(op.key)?.value ?? null),
      );
      summary = [ok, results];
      break;
    }
    default:
      throw new Error('not a model command');
  }
  return [summary, next, changed ? r : rev];
}

function summarize(result: ReturnType<KvStateMachine['apply']>['result']): unknown {
  switch (result.type) {
    case 'put':
      return 'put';
    case 'delete':
      return result.deleted;
    case 'cas':
      return result.ok;
    case 'txn':
      return [
        result.succeeded,
        result.results.map((x) => (x.op === 'put' ? 'put' : x.op === 'delete' ? x.deleted : (x.kv?.value ?? null))),
      ];
    default:
      return result;
  }
}

describe('KV state machine laws', () => {
  it('agrees with a Map model on every result, and on every read at every revision', () => {
    fc.assert(
      fc.property(fc.array(modelCommand, { maxLength: 40 }), (commands) => {
        const machine = fresh();
        let model: Model = new Map();
        let rev = 0;
        const past: Model[] = [model];
        commands.forEach((c, i) => {
          const { result } = machine.apply(c, i + 3);
          const [summary, next, nextRev] = modelApply(model, rev, c);
          expect(summarize(result)).toEqual(summary);
          model = next;
          if (nextRev !== rev) past.push(model);
          rev = nextRev;
        });
        expect(machine.spaceInfo('s')?.revision).toBe(rev);
        for (let r = 1; r <= rev; r++)
          for (const k of KEYS) {
            const want = past[r]!.get(k);
            const got = machine.get('s', k, { revision: r }).kv;
            expect(
              got === null
                ? undefined
                : { value: got.value, create: got.createRevision, mod: got.modRevision, version: got.version },
            ).toEqual(want);
          }
        const scan = machine.scan('s', { prefix: '', limit: 100 });
        expect(scan.items.map((kv) => kv.key)).toEqual(KEYS.filter((k) => model.has(k)));
      }),
      { numRuns: 300 },
    );
  });

  it('the revision goes up by one exactly on a command that changed something, and events carry it', () => {
    fc.assert(
      fc.property(fc.array(anyCommand, { maxLength: 60 }), (commands) => {
        const machine = fresh();
        commands.forEach((c, i) => {
          const before = SPACES.map((s) => machine.spaceInfo(s)!.revision);
          const { events } = machine.apply(c, i + 3);
          const after = SPACES.map((s) => machine.spaceInfo(s)!.revision);
          SPACES.forEach((s, j) => {
            const mine = events.filter((e) => e.space === s);
            expect(after[j]).toBe(before[j]! + (mine.length > 0 ? 1 : 0));
            for (const e of mine) expect(e.revision).toBe(after[j]);
          });
        });
      }),
      { numRuns: 300 },
    );
  });

  it('a machine restored from a snapshot gives identical results and events for any later commands', () => {
    fc.assert(
      fc.property(fc.array(anyCommand, { maxLength: 40 }), fc.array(anyCommand, { maxLength: 40 }), (before, after) => {
        const a = fresh();
        before.forEach((c, i) => a.apply(c, i + 3));
        const b = new KvStateMachine();
        b.restore(a.snapshot());
        expect(b.appliedIndex).toBe(a.appliedIndex);
        after.forEach((c, i) => {
          const index = before.length + 3 + i;
          expect(b.apply(c, index)).toEqual(a.apply(c, index));
        });
        expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
        for (const s of SPACES) {
          expect(b.spaceInfo(s)).toEqual(a.spaceInfo(s));
          expect(b.scan(s, { prefix: '', limit: 100 })).toEqual(a.scan(s, { prefix: '', limit: 100 }));
          expect(b.dueLeases(1e9)).toEqual(a.dueLeases(1e9));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('any junk command is a typed error result, never a throw; a replayed index changes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.anything(),
            anyCommand.map((c) => ({ ...c, key: 7 })),
          ),
        ),
        (junk) => {
          const machine = fresh();
          const before = machine.snapshot();
          junk.forEach((j, i) => {
            const out = machine.apply(j as KvCommand, i + 3);
            if (out.result.type === 'error') expect(out.events).toEqual([]);
          });
          const replay = machine.apply({ type: 'put', space: 's', key: 'a', value: '1' }, 2);
          expect(replay.result).toMatchObject({ type: 'error', code: 'ERR_KV_BAD_COMMAND' });
          expect(before.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('junk snapshot bytes are refused with ERR_KV_BAD_SNAPSHOT and the state stays', () => {
    const machine = fresh();
    machine.apply({ type: 'put', space: 's', key: 'a', value: '1' }, 3);
    const good = machine.snapshot();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          machine.restore(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(KvError);
          expect((err as KvError).code).toBe('ERR_KV_BAD_SNAPSHOT');
        }
      }),
    );
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 1] = 0xc1; // a byte msgpack never uses
    expect(() => machine.restore(corrupt)).toThrow(KvError);
    machine.restore(good);
    expect(machine.get('s', 'a').kv?.value).toBe('1');
  });
});
