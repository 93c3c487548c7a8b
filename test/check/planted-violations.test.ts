// Each class of bug a KV store or a name registry can have, planted in a small history: the
// checker rejects each one, names the key, and narrows the violation to the operations that
// cannot all have happened as observed. Linearizable neighbours of each are accepted.
import { describe, expect, it } from 'vitest';
import { checkOps, parseOps, type HistoryOp, type Verdict } from '../../sim/check/index.js';

type Line = Record<string, unknown>;

const put = (key: string, value: string, call: number, ret: number, extra: Line = {}): Line => ({
  client: 1,
  op: 'put',
  key,
  value,
  call,
  ret,
  ok: true,
  ...extra,
});
const get = (key: string, read: string | null, call: number, ret: number, extra: Line = {}): Line => ({
  client: 2,
  op: 'get',
  key,
  read,
  call,
  ret,
  ...extra,
});

function ops(lines: readonly Line[]): HistoryOp[] {
  const parsed = parseOps(lines);
  if (!parsed.ok) throw new Error(`line ${parsed.line}: ${parsed.reason}`);
  return parsed.ops;
}

function check(lines: readonly Line[], opts: Parameters<typeof checkOps>[1] = {}): Verdict {
  return checkOps(ops(lines), opts);
}

/** The window's operations as the lines they came from. */
function windowLines(v: Verdict): number[] {
  if (v.verdict !== 'violation') throw new Error(`expected a violation, got ${JSON.stringify(v)}`);
  return v.window.ops.map((o) => o.line);
}

describe('planted violations are rejected, with the key and the smallest failing window', () => {
  it('a stale read: a get returns the value an earlier completed put overwrote', () => {
    const h = [put('y', 'a', 0, 5), put('x', '1', 0, 10), put('x', '2', 20, 30), get('x', '1', 40, 50)];
    const v = check(h);
    expect(v).toMatchObject({ verdict: 'violation', namespace: 'kv', key: 'x', window: { minimal: true } });
    expect(windowLines(v)).toEqual([2, 3, 4]);
    expect(v.verdict === 'violation' && [v.window.from, v.window.to]).toEqual([0, 50]);
    // Concurrent with the second put, reading the old value is fine.
    expect(check([put('x', '1', 0, 10), put('x', '2', 20, 45), get('x', '1', 40, 50)]).verdict).toBe('linearizable');
  });

  it('a lost acknowledged write: after a completed put, a get finds the key absent', () => {
    const h = [get('x', null, 0, 5), put('x', '1', 10, 20), get('x', null, 40, 50)];
    const v = check(h);
    expect(v).toMatchObject({ verdict: 'violation', key: 'x' });
    expect(windowLines(v)).toEqual([2, 3]);
    // Another read of the value in between is enough to prove it without the put.
    expect(windowLines(check([h[1]!, get('x', '1', 25, 30), h[2]!]))).toEqual([2, 3]);
    // A put that timed out may never have happened: absent afterwards is fine.
    const lost = [{ ...put('x', '1', 10, 20), ok: undefined, ret: null, error: 'timeout' }, get('x', null, 40, 50)];
    expect(check(lost).verdict).toBe('linearizable');
  });

  it('an applied-twice write: the same put shows up again with a new revision', () => {
    const h = [
      put('x', 'a', 0, 10, { rev: 1 }),
      put('x', 'b', 20, 30, { rev: 2 }),
      get('x', 'b', 40, 50, { rev: 2 }),
      get('x', 'a', 60, 70, { rev: 3 }),
    ];
    const v = check(h);
    expect(v).toMatchObject({ verdict: 'violation', key: 'x' });
    expect(windowLines(v)).toContain(4);
    // Without revisions it is caught as a value that came back after it was overwritten.
    expect(check(h.map(({ rev: _rev, ...line }) => line)).verdict).toBe('violation');
    // And a delete applied twice (again after a later put) loses that put.
    const deleteTwice = [
      put('k', 'a', 0, 10),
      { client: 1, op: 'delete', key: 'k', call: 20, ret: 30, ok: true },
      put('k', 'b', 40, 50),
      get('k', null, 60, 70),
    ];
    expect(check(deleteTwice)).toMatchObject({ verdict: 'violation', key: 'k' });
  });

  it('a cas that ignored its comparison: it swapped although the value (or revision) differed', () => {
    const byValue = [
      put('x', '2', 0, 5),
      put('x', '1', 6, 10),
      { client: 3, op: 'cas', key: 'x', expect: '2', value: '3', call: 20, ret: 30, ok: true },
    ];
    expect(windowLines(check(byValue))).toEqual([1, 2, 3]);
    const createIfAbsent = [
      put('x', '1', 0, 10),
      { client: 3, op: 'cas', key: 'x', expect: null, value: '3', call: 20, ret: 30, ok: true },
    ];
    expect(check(createIfAbsent).verdict).toBe('violation');
    const byRev = [
      put('x', '1', 0, 10, { rev: 4 }),
      { client: 3, op: 'cas', key: 'x', expectRev: 3, value: '3', call: 20, ret: 30, ok: true, rev: 5 },
    ];
    expect(check(byRev).verdict).toBe('violation');
    // The honest outcomes of the same requests are accepted.
    expect(check([byValue[0]!, byValue[1]!, { ...byValue[2]!, ok: false }]).verdict).toBe('linearizable');
    expect(check([byRev[0]!, { ...byRev[1]!, expectRev: 4 }]).verdict).toBe('linearizable');
    // A cas that refused although the value matched is caught too.
    const refused = [
      put('x', '1', 0, 10),
      { client: 3, op: 'cas', key: 'x', expect: '1', value: '3', call: 20, ret: 30, ok: false },
    ];
    expect(check(refused).verdict).toBe('violation');
  });

  it('a read of an uncommitted value: never written, or written by a definitely failed put', () => {
    const ghost = [put('x', '1', 0, 10), get('x', 'ghost', 20, 30)];
    expect(windowLines(check(ghost))).toEqual([2]);
    const failed = [{ ...put('x', '9', 0, 10), ok: undefined, error: 'rejected' }, get('x', '9', 20, 30)];
    const v = check(failed);
    expect(v).toMatchObject({ verdict: 'violation', key: 'x' });
    expect(windowLines(v)).toEqual([2]);
    // Had it timed out instead, it might have been applied.
    expect(check([{ ...failed[0]!, error: 'timeout' }, failed[1]!]).verdict).toBe('linearizable');
  });

  it('revisions that go back, or a read of a revision no write made', () => {
    expect(check([put('x', '1', 0, 10, { rev: 5 }), put('x', '2', 20, 30, { rev: 4 })]).verdict).toBe('violation');
    expect(check([put('x', '1', 0, 10, { rev: 5 }), get('x', '1', 20, 30, { rev: 6 })]).verdict).toBe('violation');
    // An indeterminate put's revision is learned from the read that reports it.
    const learned = [
      put('x', '1', 0, 10, { rev: 5 }),
      { client: 1, op: 'put', key: 'x', value: '2', call: 20, ret: null, error: 'timeout' },
      get('x', '2', 40, 50, { rev: 9 }),
      get('x', '2', 60, 70, { rev: 9 }),
    ];
    expect(check(learned).verdict).toBe('linearizable');
    expect(check([...learned, get('x', '2', 80, 90, { rev: 8 })]).verdict).toBe('violation');
  });
});

describe('names: register / unregister / lookup with fences', () => {
  const reg = (owner: string, call: number, ret: number, ok: boolean, extra: Line = {}): Line => ({
    client: owner,
    op: 'register',
    key: 'leader',
    value: owner,
    call,
    ret,
    ok,
    ...extra,
  });
  const lookup = (read: string | null, call: number, ret: number, extra: Line = {}): Line => ({
    client: 'r',
    op: 'whereis',
    key: 'leader',
    read,
    call,
    ret,
    ...extra,
  });

  it('accepts the example of the format page', () => {
    const h = [
      put('x', '1', 1000, 2500),
      get('x', '1', 1800, 3000),
      { client: 3, op: 'cas', key: 'x', expect: '1', value: '2', call: 3100, ret: 4000, ok: true },
      { client: 'n1', op: 'register', key: 'leader', value: 'n1', call: 3200, ret: null, error: 'timeout' },
      { client: 'n2', op: 'lookup', key: 'leader', call: 5000, ret: 5600, ok: true, read: 'n1' },
      { client: 'n2', op: 'register', key: 'leader', value: 'n2', call: 5700, ret: 6100, ok: false },
      { client: 1, op: 'delete', key: 'x', call: 7000, ret: 7400, error: 'unavailable' },
    ];
    expect(check(h)).toMatchObject({ verdict: 'linearizable', keys: 2, ops: 7 });
  });

  it('rejects two owners at once, and keys and names stay separate namespaces', () => {
    const v = check([reg('a', 0, 10, true), reg('b', 20, 30, true), put('leader', 'z', 0, 5)]);
    expect(v).toMatchObject({ verdict: 'violation', namespace: 'names', key: 'leader' });
    expect(windowLines(v)).toEqual([1, 2]);
    const unregistered = [
      reg('a', 0, 10, true),
      { client: 'a', op: 'unregister', key: 'leader', value: 'a', call: 12, ret: 15, ok: true },
      reg('b', 20, 30, true),
    ];
    expect(check(unregistered).verdict).toBe('linearizable');
  });

  it('fences only grow, a lookup reports the binding, a refused register names the holder', () => {
    const h = [
      reg('a', 0, 10, true, { fence: 7 }),
      { client: 'a', op: 'unregister', key: 'leader', value: 'a', call: 12, ret: 15, ok: true },
      reg('b', 20, 30, true, { fence: 6 }),
    ];
    expect(check(h).verdict).toBe('violation');
    expect(check([h[0]!, h[1]!, { ...h[2]!, fence: 8 }]).verdict).toBe('linearizable');
    expect(check([h[0]!, lookup('a', 20, 30, { fence: 8 })]).verdict).toBe('violation');
    expect(check([h[0]!, reg('b', 20, 30, false, { read: 'a', fence: 7 })]).verdict).toBe('linearizable');
    expect(check([h[0]!, reg('b', 20, 30, false, { read: 'c' })]).verdict).toBe('violation');
    expect(check([reg('a', 0, 10, true), lookup(null, 20, 30)]).verdict).toBe('violation');
  });

  it('an unregister with a stale fence is refused; the same-owner rule is an option', () => {
    const stale = [
      reg('a', 0, 10, true, { fence: 7 }),
      { client: 'a', op: 'unregister', key: 'leader', value: 'a', fence: 3, call: 12, ret: 15, ok: true },
    ];
    expect(check(stale).verdict).toBe('violation');
    expect(check([stale[0]!, { ...stale[1]!, ok: false }]).verdict).toBe('linearizable');
    const again = [reg('a', 0, 10, true, { fence: 7 }), reg('a', 20, 30, true, { fence: 7 })];
    expect(check(again).verdict).toBe('violation');
    expect(check(again, { sameOwner: 'idempotent' }).verdict).toBe('linearizable');
    expect(check([again[0]!, { ...again[1]!, fence: 9 }], { sameOwner: 'idempotent' }).verdict).toBe('violation');
  });
});
