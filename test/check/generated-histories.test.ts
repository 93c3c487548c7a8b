// Random linearizable histories are accepted: each is generated from a sequential execution
// (a reference store gives every result, revision and fence) whose operations are then given
// call/return times around their place in the sequence, overlapping their neighbours at random;
// some end indeterminate (applied or not) and some fail definitely (never applied). The same
// histories with one read changed to a value nobody wrote are rejected. A pathological history
// ends `unknown` within its bound, by steps and by time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOps, parseOps, type HistoryOp } from '../../sim/check/index.js';

type Line = Record<string, unknown>;

type Step =
  | { kind: 'put'; key: number; value: number }
  | { kind: 'get'; key: number }
  | { kind: 'delete'; key: number }
  | { kind: 'cas'; key: number; expect: number | null; value: number }
  | { kind: 'casRev'; key: number; current: boolean; rev: number; value: number }
  | { kind: 'register'; name: number; owner: number }
  | { kind: 'unregister'; name: number; owner: number; fence: 'none' | 'current' | 'stale' }
  | { kind: 'lookup'; name: number };

interface Planned {
  readonly step: Step;
  readonly outcome: 'ok' | 'timeout' | 'failed';
  /** For an indeterminate write: whether it took effect. */
  readonly applied: boolean;
  readonly before: number;
  readonly after: number;
  readonly client: number;
}

const small = fc.integer({ min: 0, max: 2 });
const value = fc.integer({ min: 0, max: 4 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: small, value }),
  fc.record({ kind: fc.constant('get' as const), key: small }),
  fc.record({ kind: fc.constant('delete' as const), key: small }),
  fc.record({ kind: fc.constant('cas' as const), key: small, expect: fc.option(value, { nil: null }), value }),
  fc.record({ kind: fc.constant('casRev' as const), key: small, current: fc.boolean(), rev: small, value }),
  fc.record({ kind: fc.constant('register' as const), name: small, owner: small }),
  fc.record({
    kind: fc.constant('unregister' as const),
    name: small,
    owner: small,
    fence: fc.constantFrom('none' as const, 'current' as const, 'stale' as const),
  }),
  fc.record({ kind: fc.constant('lookup' as const), name: small }),
);
const planned: fc.Arbitrary<Planned> = fc.record({
  step,
  outcome: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'timeout', 'failed'),
  applied: fc.boolean(),
  before: fc.integer({ min: 0, max: 40 }),
  after: fc.integer({ min: 0, max: 40 }),
  client: fc.integer({ min: 0, max: 3 }),
});

/** Runs the plan on a reference store and writes the history it produces. */
function execute(plan: readonly Planned[], withRevisions: boolean): Line[] {
  const kv = new Map<string, { v: string; rev: number }>();
  const names = new Map<string, { o: string; f: number }>();
  let revision = 0;
  let fence = 0;
  const lines: Line[] = [];
  plan.forEach((p, i) => {
    const t = 100 + i * 10;
    const s = p.step;
    const isRead = s.kind === 'get' || s.kind === 'lookup';
    const takesEffect = p.outcome === 'ok' || (p.outcome === 'timeout' && p.applied && !isRead);
    const line: Line = { client: p.client, call: t - p.before };
    const result: Line = {};
    const rev = (r: number): void => {
      if (withRevisions) result.rev = r;
    };
    switch (s.kind) {
      case 'put':
        Object.assign(line, { op: 'put', key: `k${s.key}`, value: `${s.value}` });
        if (takesEffect) {
          kv.set(`k${s.key}`, { v: `${s.value}`, rev: ++revision });
          rev(revision);
        }
        break;
      case 'get': {
        Object.assign(line, { op: 'get', key: `k${s.key}` });
        const cur = kv.get(`k${s.key}`);
        result.read = cur?.v ?? null;
        if (cur !== undefined) rev(cur.rev);
        break;
      }
      case 'delete': {
        Object.assign(line, { op: 'delete', key: `k${s.key}` });
        const had = kv.has(`k${s.key}`);
        if (takesEffect && had) {
          kv.delete(`k${s.key}`);
          rev(++revision);
        }
        result.ok = had;
        break;
      }
      case 'cas':
      case 'casRev': {
        const key = `k${s.key}`;
        const cur = kv.get(key);
        let matched: boolean;
        if (s.kind === 'cas') {
          Object.assign(line, {
            op: 'cas',
            key,
            expect: s.expect === null ? null : `${s.expect}`,
            value: `${s.value}`,
          });
          matched = (cur?.v ?? null) === (s.expect === null ? null : `${s.expect}`);
        } else {
          const expectRev = s.current ? (cur?.rev ?? 0) : s.rev;
          Object.assign(line, { op: 'cas', key, expectRev, value: `${s.value}` });
          matched = (cur?.rev ?? 0) === expectRev;
        }
        if (takesEffect && matched) {
          kv.set(key, { v: `${s.value}`, rev: ++revision });
          rev(revision);
        }
        result.ok = matched;
        break;
      }
      case 'register': {
        const name = `n${s.name}`;
        Object.assign(line, { op: 'register', key: name, value: `o${s.owner}` });
        const cur = names.get(name);
        if (cur === undefined) {
          if (takesEffect) names.set(name, { o: `o${s.owner}`, f: ++fence });
          Object.assign(result, { ok: true, fence });
        } else Object.assign(result, { ok: false, read: cur.o, fence: cur.f });
        break;
      }
      case 'unregister': {
        const name = `n${s.name}`;
        const cur = names.get(name);
        Object.assign(line, { op: 'unregister', key: name, value: `o${s.owner}` });
        if (s.fence === 'current' && cur !== undefined) line.fence = cur.f;
        if (s.fence === 'stale') line.fence = fence + 1000;
        const fits = cur !== undefined && cur.o === `o${s.owner}` && (line.fence === undefined || line.fence === cur.f);
        if (takesEffect && fits) names.delete(name);
        result.ok = fits;
        break;
      }
      case 'lookup': {
        Object.assign(line, { op: 'lookup', key: `n${s.name}` });
        const cur = names.get(`n${s.name}`);
        result.read = cur?.o ?? null;
        if (cur !== undefined) result.fence = cur.f;
        break;
      }
    }
    if (p.outcome === 'ok') Object.assign(line, { ret: t + p.after, ...result });
    else if (p.outcome === 'timeout') Object.assign(line, { ret: null, error: 'timeout' });
    else Object.assign(line, { ret: t + p.after, error: 'rejected' });
    lines.push(line);
  });
  return lines;
}

function parsed(lines: readonly Line[]): HistoryOp[] {
  const result = parseOps(lines);
  if (!result.ok) throw new Error(`line ${result.line}: ${result.reason} in ${JSON.stringify(lines[result.line - 1])}`);
  return result.ops;
}

describe('generated histories', () => {
  it('a history made from a sequential execution with random overlaps is accepted', () => {
    fc.assert(
      fc.property(fc.array(planned, { maxLength: 40 }), fc.boolean(), (plan, withRevisions) => {
        const verdict = checkOps(parsed(execute(plan, withRevisions)));
        expect(verdict.verdict).toBe('linearizable');
      }),
      { numRuns: 300 },
    );
  });

  it('the same history with one completed read changed to a value nobody wrote is rejected', () => {
    fc.assert(
      fc.property(fc.array(planned, { maxLength: 30 }), fc.nat(), (plan, pick) => {
        const last: Planned = {
          step: { kind: 'get', key: 0 },
          outcome: 'ok',
          applied: false,
          before: 0,
          after: 0,
          client: 9,
        };
        const lines = execute([...plan, last], false);
        const reads = lines.filter((l) => l.op === 'get' && l.error === undefined);
        const victim = reads[pick % reads.length]!;
        victim.read = 'nobody-wrote-this';
        const verdict = checkOps(parsed(lines));
        expect(verdict).toMatchObject({ verdict: 'violation', key: victim.key });
        if (verdict.verdict === 'violation')
          expect(verdict.window.ops.map((o) => o.read)).toContain('nobody-wrote-this');
      }),
      { numRuns: 200 },
    );
  });
});

describe('bounds', () => {
  // 28 puts of different values, all concurrent, then a read of a value none of them wrote: the
  // search would try every order of every subset before it could say "violation".
  const pathological: Line[] = [
    ...Array.from({ length: 28 }, (_, i) => ({ client: i, op: 'put', key: 'x', value: `v${i}`, call: 0, ret: 100 })),
    { client: 99, op: 'get', key: 'x', read: 'never', call: 200, ret: 210 },
    { client: 98, op: 'put', key: 'y', value: '1', call: 0, ret: 10 },
  ];

  it('a pathological history is `unknown` within the step bound, naming the undecided key', () => {
    const verdict = checkOps(parsed(pathological), { maxStepsPerKey: 50_000 });
    expect(verdict).toMatchObject({ verdict: 'unknown', reason: 'steps', undecided: ['kv:x'], keys: 2 });
    expect(verdict.steps).toBeLessThanOrEqual(50_000 + 10);
  });

  it('a pathological history is `unknown` within the time bound (an injected clock)', () => {
    let t = 0;
    const verdict = checkOps(parsed(pathological), { timeLimitMs: 3, now: () => t++ });
    expect(verdict).toMatchObject({ verdict: 'unknown', reason: 'time' });
  });

  it('the cache bound ends a search as `unknown` (memory) too', () => {
    const verdict = checkOps(parsed(pathological), { maxCachePerKey: 1_000 });
    expect(verdict).toMatchObject({ verdict: 'unknown', reason: 'memory' });
  });
});
