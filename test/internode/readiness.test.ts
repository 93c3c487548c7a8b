// The cluster readiness machine: a table with every (state, input) pair, the configuration it
// refuses, the quorum arithmetic, and laws over random input sequences (no transition leaves the
// graph, Bootstrapped always holds a quorum at the moment of transition, every run ends by
// pingTimeoutMs + collectTimeoutMs after start).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QuorumPolicy, ReadinessOptions, ReadinessState, ReadinessTransition } from '../../internode/readiness.js';
import {
  DEFAULT_COLLECT_TIMEOUT_MS,
  DEFAULT_PING_TIMEOUT_MS,
  MAX_EXPECTED_PEERS,
  MAX_READINESS_TIMEOUT_MS,
  READINESS_EDGES,
  ReadinessError,
  ReadinessMachine,
  quorumSize,
  resolveReadinessConfig,
} from '../../internode/readiness.js';

function brief(ts: readonly ReadinessTransition[]): string[] {
  return ts.map((t) => `${t.from}->${t.to}@${t.at}:${t.reason}`);
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function expectReadinessError(fn: () => unknown, kind: string): void {
  const err = catchError(fn);
  expect(err).toBeInstanceOf(ReadinessError);
  expect((err as ReadinessError).kind).toBe(kind);
  expect((err as ReadinessError).code).toBe('ERR_BAD_ARGUMENT');
}

// ---------------------------------------------------------------------------------------------
// Every (state, input) pair. Base: peers b, c, d; at least 2 must respond; ping phase 1000 ms,
// collect phase 2000 ms. Each state is reached by a fixed prefix of inputs:
//   Initial       tick@100                         (time known, nothing started)
//   Pinging       start@100                        (ping deadline 1100)
//   Collecting    start@100, b@200                 (collect deadline 2200)
//   Bootstrapped  start@100, b@200, c@300          (quorum b, c)
//   TimedOut      start@100, tick@1100

const BASE: ReadinessOptions = {
  expectedPeers: ['b', 'c', 'd'],
  quorum: { atLeast: 2 },
  pingTimeoutMs: 1000,
  collectTimeoutMs: 2000,
};

const SETUPS: Record<ReadinessState, (m: ReadinessMachine) => void> = {
  Initial: (m) => m.tick(100),
  Pinging: (m) => m.start(100),
  Collecting: (m) => {
    m.start(100);
    m.peerResponded('b', 200);
  },
  Bootstrapped: (m) => {
    m.start(100);
    m.peerResponded('b', 200);
    m.peerResponded('c', 300);
  },
  TimedOut: (m) => {
    m.start(100);
    m.tick(1100);
  },
};

type InputName =
  | 'start'
  | 'respond new peer c'
  | 'respond peer b again'
  | 'respond unknown peer'
  | 'respond a non-string name'
  | 'lose responded peer b'
  | 'lose silent peer d'
  | 'lose unknown peer'
  | 'tick before any deadline'
  | 'tick at ping deadline'
  | 'tick at collect deadline'
  | 'respond c at collect deadline'
  | 'time going backwards';

const INPUTS: Record<InputName, (m: ReadinessMachine) => readonly ReadinessTransition[]> = {
  start: (m) => m.start(500),
  'respond new peer c': (m) => m.peerResponded('c', 500),
  'respond peer b again': (m) => m.peerResponded('b', 500),
  'respond unknown peer': (m) => m.peerResponded('zed', 500),
  'respond a non-string name': (m) => m.peerResponded(7 as unknown as string, 500),
  'lose responded peer b': (m) => m.peerLost('b', 500),
  'lose silent peer d': (m) => m.peerLost('d', 500),
  'lose unknown peer': (m) => m.peerLost('zed', 500),
  'tick before any deadline': (m) => m.tick(500),
  'tick at ping deadline': (m) => m.tick(1100),
  'tick at collect deadline': (m) => m.tick(2200),
  'respond c at collect deadline': (m) => m.peerResponded('c', 2200),
  'time going backwards': (m) => m.tick(50),
};

interface Expect {
  /** Transitions returned, as `from->to:reason` (the time is the input's). */
  readonly out?: readonly string[];
  /** State afterwards (default: unchanged). */
  readonly state?: ReadinessState;
  /** Responded peers afterwards (default: unchanged). */
  readonly responded?: readonly string[];
  /** A typed error of this kind, and nothing changed. */
  readonly error?: 'bad-input' | 'time-backwards';
  /** Stat counters that moved. */
  readonly stats?: Partial<Record<'unknownPeer' | 'ignoredAfterEnd' | 'repeatedStart', number>>;
}

const IGNORED_AFTER_END: Expect = { stats: { ignoredAfterEnd: 1 } };

const TABLE: Record<ReadinessState, Record<InputName, Expect>> = {
  Initial: {
    start: { out: ['Initial->Pinging:started'], state: 'Pinging' },
    'respond new peer c': { responded: ['c'] }, // remembered for start
    'respond peer b again': { responded: ['b'] },
    'respond unknown peer': { stats: { unknownPeer: 1 } },
    'respond a non-string name': { error: 'bad-input' },
    'lose responded peer b': {},
    'lose silent peer d': {},
    'lose unknown peer': { stats: { unknownPeer: 1 } },
    'tick before any deadline': {},
    'tick at ping deadline': {}, // no deadline before start
    'tick at collect deadline': {},
    'respond c at collect deadline': { responded: ['c'] },
    'time going backwards': { error: 'time-backwards' },
  },
  Pinging: {
    start: { stats: { repeatedStart: 1 } },
    'respond new peer c': { out: ['Pinging->Collecting:first-response'], state: 'Collecting', responded: ['c'] },
    'respond peer b again': { out: ['Pinging->Collecting:first-response'], state: 'Collecting', responded: ['b'] },
    'respond unknown peer': { stats: { unknownPeer: 1 } },
    'respond a non-string name': { error: 'bad-input' },
    'lose responded peer b': {},
    'lose silent peer d': {},
    'lose unknown peer': { stats: { unknownPeer: 1 } },
    'tick before any deadline': {},
    'tick at ping deadline': { out: ['Pinging->TimedOut:ping-timeout'], state: 'TimedOut' },
    'tick at collect deadline': { out: ['Pinging->TimedOut:ping-timeout'], state: 'TimedOut' },
    // Time first: the ping deadline passed before this response, so it finds TimedOut.
    'respond c at collect deadline': { out: ['Pinging->TimedOut:ping-timeout'], state: 'TimedOut' },
    'time going backwards': { error: 'time-backwards' },
  },
  Collecting: {
    start: { stats: { repeatedStart: 1 } },
    'respond new peer c': {
      out: ['Collecting->Bootstrapped:quorum-met'],
      state: 'Bootstrapped',
      responded: ['b', 'c'],
    },
    'respond peer b again': {},
    'respond unknown peer': { stats: { unknownPeer: 1 } },
    'respond a non-string name': { error: 'bad-input' },
    'lose responded peer b': { responded: [] }, // stays Collecting, never back to Pinging
    'lose silent peer d': {},
    'lose unknown peer': { stats: { unknownPeer: 1 } },
    'tick before any deadline': {},
    'tick at ping deadline': {}, // the ping deadline ended with the ping phase
    'tick at collect deadline': { out: ['Collecting->TimedOut:collect-timeout'], state: 'TimedOut' },
    'respond c at collect deadline': { out: ['Collecting->TimedOut:collect-timeout'], state: 'TimedOut' },
    'time going backwards': { error: 'time-backwards' },
  },
  Bootstrapped: {
    start: IGNORED_AFTER_END,
    'respond new peer c': IGNORED_AFTER_END,
    'respond peer b again': IGNORED_AFTER_END,
    'respond unknown peer': IGNORED_AFTER_END,
    'respond a non-string name': IGNORED_AFTER_END, // terminal states never throw
    'lose responded peer b': IGNORED_AFTER_END,
    'lose silent peer d': IGNORED_AFTER_END,
    'lose unknown peer': IGNORED_AFTER_END,
    'tick before any deadline': IGNORED_AFTER_END,
    'tick at ping deadline': IGNORED_AFTER_END,
    'tick at collect deadline': IGNORED_AFTER_END,
    'respond c at collect deadline': IGNORED_AFTER_END,
    'time going backwards': IGNORED_AFTER_END,
  },
  TimedOut: {
    start: IGNORED_AFTER_END,
    'respond new peer c': IGNORED_AFTER_END,
    'respond peer b again': IGNORED_AFTER_END,
    'respond unknown peer': IGNORED_AFTER_END,
    'respond a non-string name': IGNORED_AFTER_END,
    'lose responded peer b': IGNORED_AFTER_END,
    'lose silent peer d': IGNORED_AFTER_END,
    'lose unknown peer': IGNORED_AFTER_END,
    'tick before any deadline': IGNORED_AFTER_END,
    'tick at ping deadline': IGNORED_AFTER_END,
    'tick at collect deadline': IGNORED_AFTER_END,
    'respond c at collect deadline': IGNORED_AFTER_END,
    'time going backwards': IGNORED_AFTER_END,
  },
};

describe('every (state, input) pair', () => {
  for (const state of Object.keys(TABLE) as ReadinessState[]) {
    for (const input of Object.keys(INPUTS) as InputName[]) {
      const want = TABLE[state][input];
      it(`${state} × ${input}`, () => {
        const m = new ReadinessMachine(BASE);
        SETUPS[state](m);
        expect(m.state).toBe(state);
        const before = {
          state: m.state,
          responded: m.responded,
          history: m.history,
          stats: m.stats,
          deadline: m.deadline,
        };
        if (want.error !== undefined) {
          expectReadinessError(() => INPUTS[input](m), want.error);
          expect({
            state: m.state,
            responded: m.responded,
            history: m.history,
            stats: m.stats,
            deadline: m.deadline,
          }).toEqual(before);
          return;
        }
        const out = INPUTS[input](m);
        expect(out.map((t) => `${t.from}->${t.to}:${t.reason}`)).toEqual(want.out ?? []);
        expect(m.state).toBe(want.state ?? before.state);
        expect(m.responded).toEqual(want.responded ?? before.responded);
        expect(m.history).toEqual([...before.history, ...out]);
        const moved = Object.fromEntries(
          Object.entries(m.stats).filter(([k, v]) => v !== before.stats[k as keyof typeof before.stats]),
        );
        expect(moved).toEqual(want.stats ?? {});
        if (m.state === 'Bootstrapped' && before.state !== 'Bootstrapped') expect(m.quorumPeers).toEqual(m.responded);
      });
    }
  }

  it('the table covers every state and every input', () => {
    expect(Object.keys(TABLE).sort()).toEqual(['Bootstrapped', 'Collecting', 'Initial', 'Pinging', 'TimedOut']);
    for (const row of Object.values(TABLE)) expect(Object.keys(row).sort()).toEqual(Object.keys(INPUTS).sort());
  });
});

describe('configuration', () => {
  it('defaults to a majority, 10 s to a first peer and 30 s to the quorum', () => {
    const c = resolveReadinessConfig({ expectedPeers: ['c', 'b'] });
    expect(c).toEqual({
      expectedPeers: ['b', 'c'],
      self: undefined,
      quorum: 'majority',
      members: 2,
      required: 2,
      pingTimeoutMs: 10_000,
      collectTimeoutMs: 30_000,
    });
    expect([DEFAULT_PING_TIMEOUT_MS, DEFAULT_COLLECT_TIMEOUT_MS]).toEqual([10_000, 30_000]);
  });

  it('counts self as one member and drops it from the peer list', () => {
    const c = resolveReadinessConfig({ self: 'a', expectedPeers: ['a', 'b', 'c'] });
    expect(c).toMatchObject({ expectedPeers: ['b', 'c'], self: 'a', members: 3, required: 2 });
  });

  const bad: [string, unknown][] = [
    ['not an object', null],
    ['peers not an array', { expectedPeers: 'b,c' }],
    ['a peer twice', { expectedPeers: ['b', 'b'] }],
    ['an empty peer name', { expectedPeers: [''] }],
    ['a peer name with a space', { expectedPeers: ['b c'] }],
    ['a non-string peer', { expectedPeers: [1] }],
    ['a bad self', { self: '', expectedPeers: ['b'] }],
    ['no member at all', { expectedPeers: [] }],
    ['self listed as the only peer, without self', { expectedPeers: ['a'], quorum: { atLeast: 2 } }],
    ['too many peers', { expectedPeers: Array.from({ length: MAX_EXPECTED_PEERS + 1 }, (_, i) => `n${i}`) }],
    ['atLeast 0', { expectedPeers: ['b'], quorum: { atLeast: 0 } }],
    ['atLeast above the members', { expectedPeers: ['b', 'c'], quorum: { atLeast: 3 } }],
    ['atLeast fractional', { expectedPeers: ['b', 'c'], quorum: { atLeast: 1.5 } }],
    ['an unknown policy', { expectedPeers: ['b'], quorum: 'most' }],
    ['a null policy', { expectedPeers: ['b'], quorum: null }],
    ['a zero ping timeout', { expectedPeers: ['b'], pingTimeoutMs: 0 }],
    ['a fractional collect timeout', { expectedPeers: ['b'], collectTimeoutMs: 1.5 }],
    ['a timeout over the maximum', { expectedPeers: ['b'], collectTimeoutMs: MAX_READINESS_TIMEOUT_MS + 1 }],
    ['a NaN timeout', { expectedPeers: ['b'], pingTimeoutMs: Number.NaN }],
  ];
  for (const [name, options] of bad) {
    it(`refuses ${name} with a typed bad-config error`, () => {
      expectReadinessError(() => new ReadinessMachine(options as ReadinessOptions), 'bad-config');
    });
  }

  it('accepts the largest peer list', () => {
    const m = new ReadinessMachine({ expectedPeers: Array.from({ length: MAX_EXPECTED_PEERS }, (_, i) => `n${i}`) });
    expect(m.config.required).toBe(MAX_EXPECTED_PEERS / 2 + 1);
  });
});

describe('quorum arithmetic', () => {
  it('majority is a strict majority, all is everyone, atLeast is n', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => quorumSize('majority', n))).toEqual([1, 2, 2, 3, 3, 4, 4]);
    expect(quorumSize('all', 5)).toBe(5);
    expect(quorumSize({ atLeast: 2 }, 5)).toBe(2);
  });

  it('a one-node cluster (self only) bootstraps on start, through every state, in one call', () => {
    const m = new ReadinessMachine({ self: 'a', expectedPeers: [] });
    expect(brief(m.start(7))).toEqual([
      'Initial->Pinging@7:started',
      'Pinging->Collecting@7:no-peer-needed',
      'Collecting->Bootstrapped@7:quorum-met',
    ]);
    expect(m.quorumPeers).toEqual([]);
  });

  it('with self, a majority of three bootstraps on the first response', () => {
    const m = new ReadinessMachine({ self: 'a', expectedPeers: ['a', 'b', 'c'] });
    m.start(0);
    expect(brief(m.peerResponded('c', 10))).toEqual([
      'Pinging->Collecting@10:first-response',
      'Collecting->Bootstrapped@10:quorum-met',
    ]);
    expect(m.quorumPeers).toEqual(['c']);
  });

  it("'all' waits for every peer, and a lost one must come back", () => {
    const m = new ReadinessMachine({ expectedPeers: ['b', 'c', 'd'], quorum: 'all' });
    m.start(0);
    m.peerResponded('b', 1);
    m.peerResponded('c', 2);
    m.peerLost('b', 3);
    expect(m.peerResponded('d', 4)).toEqual([]);
    expect(m.count).toBe(2);
    expect(brief(m.peerResponded('b', 5))).toEqual(['Collecting->Bootstrapped@5:quorum-met']);
    expect(m.quorumPeers).toEqual(['b', 'c', 'd']);
  });

  it('the quorum peers are those counted at the moment of transition', () => {
    const m = new ReadinessMachine({ expectedPeers: ['b', 'c', 'd', 'e'], quorum: { atLeast: 2 } });
    m.start(0);
    m.peerResponded('e', 1);
    m.peerResponded('b', 2);
    const [t] = m.history.slice(-1);
    expect(t).toMatchObject({ from: 'Collecting', to: 'Bootstrapped', responded: ['b', 'e'] });
    expect(m.quorumPeers).toEqual(['b', 'e']);
  });
});

describe('phases and deadlines', () => {
  it('responses received before start count at start', () => {
    const m = new ReadinessMachine({ expectedPeers: ['b', 'c', 'd'] });
    m.peerResponded('b', 0);
    m.peerResponded('c', 1);
    expect(m.state).toBe('Initial');
    expect(brief(m.start(2))).toEqual([
      'Initial->Pinging@2:started',
      'Pinging->Collecting@2:first-response',
      'Collecting->Bootstrapped@2:quorum-met',
    ]);
  });

  it('the collect deadline runs from entry into Collecting, and losing everyone does not restart it', () => {
    const m = new ReadinessMachine({ ...BASE });
    m.start(0);
    expect(m.deadline).toBe(1000);
    m.peerResponded('b', 900);
    expect(m.deadline).toBe(2900);
    m.peerLost('b', 1000);
    expect(m.state).toBe('Collecting');
    expect(m.tick(2899)).toEqual([]);
    expect(brief(m.tick(2900))).toEqual(['Collecting->TimedOut@2900:collect-timeout']);
    expect(m.deadline).toBeUndefined();
  });

  it('a response one millisecond before the deadline wins; at the deadline it loses', () => {
    const early = new ReadinessMachine(BASE);
    early.start(0);
    early.peerResponded('b', 10);
    expect(early.peerResponded('c', 2009).map((t) => t.to)).toEqual(['Bootstrapped']);
    const late = new ReadinessMachine(BASE);
    late.start(0);
    late.peerResponded('b', 10);
    expect(late.peerResponded('c', 2010).map((t) => t.to)).toEqual(['TimedOut']);
    expect(late.quorumPeers).toBeUndefined();
  });

  it('a lost peer that responds again counts again', () => {
    const m = new ReadinessMachine(BASE);
    m.start(0);
    m.peerResponded('b', 1);
    m.peerLost('b', 2);
    m.peerResponded('c', 3);
    expect(m.state).toBe('Collecting');
    expect(m.peerResponded('b', 4).map((t) => t.to)).toEqual(['Bootstrapped']);
  });

  it('a non-finite now is a typed error', () => {
    const m = new ReadinessMachine(BASE);
    expectReadinessError(() => m.start(Number.NaN), 'bad-input');
    expectReadinessError(() => m.tick(Number.POSITIVE_INFINITY), 'bad-input');
    expect(m.state).toBe('Initial');
  });

  it('transitions and history are immutable snapshots', () => {
    const m = new ReadinessMachine(BASE);
    const [t] = m.start(0);
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t?.responded)).toBe(true);
    (m.history as ReadinessTransition[]).length = 0;
    expect(m.history).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Laws over random configurations and input sequences.

const PEERS = ['a', 'b', 'c', 'd', 'e'];
const EDGE_SET = new Set(READINESS_EDGES.map(([f, t]) => `${f}->${t}`));

type Step =
  | { kind: 'start'; dt: number }
  | { kind: 'respond'; peer: string; dt: number }
  | { kind: 'lost'; peer: string; dt: number }
  | { kind: 'tick'; dt: number };

const peerArb = fc.constantFrom(...PEERS, 'zed');
// Steps and timeouts on a 100 ms grid, so inputs often land exactly on a deadline.
const dtArb = fc.integer({ min: 0, max: 4 }).map((n) => n * 100);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('start' as const), dt: dtArb }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('respond' as const), peer: peerArb, dt: dtArb }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('lost' as const), peer: peerArb, dt: dtArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: dtArb }), weight: 3 },
);

const configArb: fc.Arbitrary<ReadinessOptions> = fc
  .record({
    peers: fc.subarray(PEERS, { minLength: 0 }),
    withSelf: fc.boolean(),
    policy: fc.oneof(fc.constant('all' as const), fc.constant('majority' as const), fc.integer({ min: 1, max: 6 })),
    pingTimeoutMs: fc.oneof(
      fc.integer({ min: 1, max: 15 }).map((n) => n * 100),
      fc.integer({ min: 1, max: 1500 }),
    ),
    collectTimeoutMs: fc.oneof(
      fc.integer({ min: 1, max: 15 }).map((n) => n * 100),
      fc.integer({ min: 1, max: 1500 }),
    ),
  })
  .filter(({ peers, withSelf }) => peers.length + (withSelf ? 1 : 0) > 0)
  .map(({ peers, withSelf, policy, pingTimeoutMs, collectTimeoutMs }) => {
    const members = peers.length + (withSelf ? 1 : 0);
    const quorum: QuorumPolicy = typeof policy === 'number' ? { atLeast: Math.min(policy, members) } : policy;
    return { expectedPeers: peers, ...(withSelf ? { self: 'me' } : {}), quorum, pingTimeoutMs, collectTimeoutMs };
  });

describe('laws over random input sequences', () => {
  it('never leaves the graph; Bootstrapped always has a quorum; every run ends within both timeouts', () => {
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { maxLength: 40 }), (options, steps) => {
        const m = new ReadinessMachine(options);
        const required = m.config.required;
        const expected = new Set(m.config.expectedPeers);
        const emitted: ReadinessTransition[] = [];
        let state: ReadinessState = 'Initial';
        let now = 0;
        let startedAt: number | undefined;
        let phaseStart = 0;
        const counted = new Set<string>();
        for (const step of steps) {
          now += step.dt;
          const wasDone = m.done;
          const out =
            step.kind === 'start'
              ? m.start(now)
              : step.kind === 'respond'
                ? m.peerResponded(step.peer, now)
                : step.kind === 'lost'
                  ? m.peerLost(step.peer, now)
                  : m.tick(now);
          if (step.kind === 'start') startedAt ??= now;
          // The model of who counts: an input found after a deadline is dropped (time first).
          if (
            !wasDone &&
            !out.some((t) => t.to === 'TimedOut') &&
            step.kind !== 'start' &&
            step.kind !== 'tick' &&
            expected.has(step.peer)
          ) {
            if (step.kind === 'respond') counted.add(step.peer);
            else counted.delete(step.peer);
          }
          for (const t of out) {
            expect(EDGE_SET.has(`${t.from}->${t.to}`)).toBe(true);
            expect(t.from).toBe(state); // a chain: each transition starts where the last ended
            expect(t.at).toBe(now);
            for (const p of t.responded) expect(expected.has(p)).toBe(true);
            if (t.to === 'Collecting') phaseStart = now;
            if (t.to === 'Bootstrapped') {
              expect(t.responded).toEqual([...counted].sort()); // exactly the peers counted now
              expect(t.responded.length + (m.config.self === undefined ? 0 : 1)).toBeGreaterThanOrEqual(required);
              expect(now).toBeLessThan(phaseStart + m.config.collectTimeoutMs);
            }
            if (t.reason === 'ping-timeout') expect(now).toBeGreaterThanOrEqual(startedAt! + m.config.pingTimeoutMs);
            if (t.reason === 'collect-timeout')
              expect(now).toBeGreaterThanOrEqual(phaseStart + m.config.collectTimeoutMs);
            state = t.to;
            emitted.push(t);
          }
          expect(m.state).toBe(state);
          if (!m.done) expect(m.responded).toEqual([...counted].sort());
          // No phase outlives its deadline.
          if (state === 'Pinging') expect(now).toBeLessThan(startedAt! + m.config.pingTimeoutMs);
          if (state === 'Collecting') expect(now).toBeLessThan(phaseStart + m.config.collectTimeoutMs);
          // Bounded: a run is over by start + ping + collect timeouts.
          if (startedAt !== undefined && now >= startedAt + m.config.pingTimeoutMs + m.config.collectTimeoutMs)
            expect(m.done).toBe(true);
          // Never sits in Collecting with a quorum (it would have bootstrapped).
          if (state === 'Collecting') expect(m.count).toBeLessThan(required);
        }
        expect(m.history).toEqual(emitted);
        if (state === 'Bootstrapped') expect(m.quorumPeers).toEqual(emitted.at(-1)!.responded);
        else expect(m.quorumPeers).toBeUndefined();
      }),
      { numRuns: 500, seed: 0x3ead1 },
    );
  });
});
