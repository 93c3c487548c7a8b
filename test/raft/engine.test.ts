// The engine's contract beyond the paper: limits, typed errors, flow control, learners,
// membership rules, leases, status and trace events.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { RaftError, RaftEngine, validateLimits, type AppendMessage, type Message } from '../../raft/index.js';
import { Inflights } from '../../raft/progress.js';
import { RaftLog } from '../../raft/log.js';
import { seededRandom } from '../../runtime/base.js';
import { Harness, enc } from './harness.js';

const three = ['1', '2', '3'];

function cluster(opts = {}): Harness {
  const h = new Harness(opts);
  h.add(three, three);
  h.elect('1');
  return h;
}

describe('limits', () => {
  test('limits are validated together at construction with a typed error', () => {
    expect(() => validateLimits({ heartbeatTicks: 10, electionTicks: 10 })).toThrow(RaftError);
    expect(() => validateLimits({ maxAppendEntries: 0 })).toThrow(/maxAppendEntries/);
    expect(() => validateLimits({ maxInflightBytes: 10, maxAppendBytes: 100 })).toThrow(/maxInflightBytes/);
    expect(() => validateLimits({ maxEntryBytes: 100, maxUncommittedBytes: 50 })).toThrow(/maxUncommittedBytes/);
    try {
      new RaftEngine({ id: 'a', random: seededRandom(1), limits: { electionTicks: 1.5 } });
      expect.unreachable();
    } catch (err) {
      expect((err as RaftError).code).toBe('ERR_RAFT_BAD_OPTIONS');
    }
  });

  test('lease reads require check-quorum (their safety rests on it)', () => {
    expect(() => new RaftEngine({ id: 'a', random: seededRandom(1), readMode: 'lease', checkQuorum: false })).toThrow(
      /checkQuorum/,
    );
  });

  test('beyond maxUncommittedBytes a leader refuses proposals with a typed error, accepts again after commit', () => {
    const h = cluster({ limits: { maxUncommittedBytes: 300, maxEntryBytes: 100 } });
    h.isolate('1');
    const big = 'x'.repeat(100);
    const results = [1, 2, 3].map(() => h.propose('1', big));
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    const last = results[2];
    if (last && !last.ok) expect(last.error.code).toBe('ERR_RAFT_TOO_MUCH_UNCOMMITTED');
    h.heal();
    h.stabilize();
    h.tickAll();
    h.stabilize();
    expect(h.engine('1').status().uncommittedBytes).toBe(0);
    expect(h.propose('1', big).ok).toBe(true);
  });

  test('bad proposals are refused: empty batch, too many commands, oversized command', () => {
    const h = cluster({ limits: { maxProposalEntries: 2, maxEntryBytes: 4 } });
    for (const commands of [[], [enc('a'), enc('b'), enc('c')], [enc('too long')]]) {
      const r = h.engine('1').step({ type: 'propose', commands });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('ERR_RAFT_BAD_PROPOSAL');
    }
  });
});

describe('untrusted input', () => {
  test('misaddressed, self-sent and malformed messages are refused and counted, never crash', () => {
    const h = cluster();
    const n = h.engine('2');
    const bad: unknown[] = [
      { type: 'heartbeat', from: '1', to: '3', term: 1, commit: 0, readSeq: 0 },
      { type: 'heartbeat', from: '2', to: '2', term: 1, commit: 0, readSeq: 0 },
      { type: 'heartbeat', from: '1', to: '2', term: -1, commit: 0, readSeq: 0 },
      {
        type: 'append',
        from: '1',
        to: '2',
        term: 1,
        prevIndex: 1,
        prevTerm: 1,
        commit: 0,
        entries: [{ kind: 'noop', term: 1, index: 5 }],
      },
      {
        type: 'append',
        from: '1',
        to: '2',
        term: 1,
        prevIndex: 1,
        prevTerm: 1,
        commit: 0,
        entries: [{ kind: 'noop', term: 9, index: 2 }],
      },
      null,
    ];
    for (const m of bad) {
      const r = n.step({ type: 'message', message: m as Message });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('ERR_RAFT_BAD_MESSAGE');
    }
    expect(n.counters.badMessages).toBe(bad.length);
    expect(n.lastIndex).toBe(1);
  });

  test('fuzzed messages never crash the engine: every step returns ok or a typed error', () => {
    const h = cluster();
    const types = [
      'append',
      'appendResp',
      'heartbeat',
      'heartbeatResp',
      'vote',
      'voteResp',
      'snapshot',
      'timeoutNow',
      'readIndex',
      'readIndexResp',
      'bogus',
    ];
    const junk = fc.oneof(fc.anything(), fc.integer({ min: -3, max: 5 }), fc.constant(new Uint8Array(2)), fc.string());
    const message = fc.record({
      type: fc.constantFrom(...types),
      from: fc.constantFrom('1', '2', '3', '', 7),
      to: fc.constantFrom('1', '2', '3'),
      term: fc.oneof(fc.integer({ min: 0, max: 4 }), junk),
      prevIndex: fc.oneof(fc.integer({ min: 0, max: 4 }), junk),
      prevTerm: fc.oneof(fc.integer({ min: 0, max: 4 }), junk),
      commit: fc.oneof(fc.integer({ min: 0, max: 4 }), junk),
      index: fc.oneof(fc.integer({ min: 0, max: 4 }), junk),
      entries: fc.oneof(
        fc.array(
          fc.record({
            kind: fc.constantFrom('normal', 'noop', 'config', 'x'),
            term: fc.nat(4),
            index: fc.nat(6),
            data: junk,
          }),
        ),
        junk,
      ),
      snapshot: junk,
      readSeq: fc.oneof(fc.nat(5), junk),
      pre: fc.oneof(fc.boolean(), junk),
      granted: fc.oneof(fc.boolean(), junk),
      reject: fc.oneof(fc.boolean(), junk),
      lastIndex: fc.oneof(fc.nat(5), junk),
      lastTerm: fc.oneof(fc.nat(5), junk),
    });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 30 }), (msgs) => {
        for (const m of msgs) {
          const n = h.engine(m.to);
          const r = n.step({ type: 'message', message: m as unknown as Message });
          if (!r.ok) expect(r.error).toBeInstanceOf(RaftError);
          while (n.hasReady()) n.ready();
        }
      }),
      { numRuns: 300 },
    );
    expect(h.engine('1').step(null as unknown as Parameters<RaftEngine['step']>[0]).ok).toBe(false);
  });

  test('host protocol errors are typed: persisting a write never issued, applying beyond what was handed out', () => {
    const n = new RaftEngine({ id: 'a', random: seededRandom(1), bootstrap: { voters: ['a'], learners: [] } });
    const p = n.step({ type: 'persisted', writeId: 3 });
    const a = n.step({ type: 'applied', index: 5 });
    expect(!p.ok && p.error.code).toBe('ERR_RAFT_HOST_PROTOCOL');
    expect(!a.ok && a.error.code).toBe('ERR_RAFT_HOST_PROTOCOL');
  });
});

describe('replication flow control', () => {
  test('appends are batched up to maxAppendEntries and pipelined up to the in-flight window', () => {
    const h = cluster({ limits: { maxAppendEntries: 3, maxInflightMessages: 2 } });
    h.cuts.add('2>1');
    h.cuts.add('3>1');
    h.propose('1', ...Array.from({ length: 20 }, (_, i) => `c${i}`));
    h.process('1');
    const appends = h.queue.filter(
      (m): m is AppendMessage => m.type === 'append' && m.to === '2' && m.entries.length > 0,
    );
    expect(appends.map((m) => m.entries.length)).toEqual([3, 3]);
    const peer = h
      .engine('1')
      .status()
      .peers.find((p) => p.id === '2');
    expect(peer?.inflightMessages).toBe(2);
    expect(peer?.state).toBe('replicate');
    // Once acknowledgements flow, the backlog drains in full batches and everything commits.
    h.heal();
    h.stabilize();
    expect(h.get('2').applied).toHaveLength(20);
  });

  test('the in-flight window is also bounded in bytes', () => {
    const h = cluster({
      limits: {
        maxAppendEntries: 1,
        maxAppendBytes: 200,
        maxInflightBytes: 300,
        maxInflightMessages: 100,
        maxEntryBytes: 150,
      },
    });
    h.cuts.add('2>1');
    for (let i = 0; i < 10; i++) h.propose('1', 'y'.repeat(100));
    h.process('1');
    const sent = h.queue.filter((m) => m.type === 'append' && m.to === '2' && m.entries.length > 0);
    expect(sent).toHaveLength(3); // 3 x 124 bytes reaches 300
    expect(
      h
        .engine('1')
        .status()
        .peers.find((p) => p.id === '2')?.inflightBytes,
    ).toBeLessThanOrEqual(300 + 124);
  });

  test('fast backtracking: a long divergent tail is skipped a term at a time, not an entry at a time', () => {
    const h = new Harness({ preVote: false, checkQuorum: false });
    h.addWithLog('1', three, [1, 1, 5, 5, 5], 5);
    h.addWithLog('2', three, [1, 1, ...Array.from({ length: 100 }, () => 3)], 3);
    h.addWithLog('3', three, [1, 1, 5, 5, 5], 5);
    h.isolate('3');
    h.elect('1');
    const rejects = [...h.stabilize()].filter((m) => m.type === 'appendResp' && m.reject);
    expect(rejects.length).toBeLessThanOrEqual(2);
    expect(h.engine('2').lastIndex).toBe(h.engine('1').lastIndex);
  });

  test('a follower that stops answering is probed, not flooded; unreachable reports switch to probe', () => {
    const h = cluster();
    h.propose('1', 'a');
    h.stabilize();
    h.engine('1').step({ type: 'unreachable', peer: '2' });
    expect(
      h
        .engine('1')
        .status()
        .peers.find((p) => p.id === '2')?.state,
    ).toBe('probe');
  });
});

describe('learners and membership', () => {
  test('a learner replicates and applies but never votes, counts or campaigns', () => {
    const h = new Harness();
    h.add(['1', '2', '3'], ['1', '2'], ['3']);
    h.elect('1');
    h.propose('1', 'a');
    h.stabilize();
    expect(h.get('3').applied).toEqual(['a']);
    h.tick('3', 100);
    expect(h.engine('3').currentRole).toBe('follower');
    // Commit does not count the learner: with voter 2 cut off, nothing commits.
    h.isolate('2');
    h.propose('1', 'b');
    h.stabilize();
    expect(h.get('1').applied).toEqual(['a']);
  });

  test('a learner is promoted only once caught up; removing the last voter is refused', () => {
    const h = new Harness();
    h.add(['1', '2'], ['1'], []);
    h.elect('1');
    h.isolate('2');
    expect(h.engine('1').step({ type: 'changeConfig', change: { type: 'addLearner', id: '2' } }).ok).toBe(true);
    h.stabilize();
    const early = h.engine('1').step({ type: 'changeConfig', change: { type: 'addVoter', id: '2' } });
    expect(!early.ok && early.error.code).toBe('ERR_RAFT_NOT_CAUGHT_UP');
    h.heal();
    h.tickAll();
    h.stabilize();
    expect(h.engine('1').step({ type: 'changeConfig', change: { type: 'addVoter', id: '2' } }).ok).toBe(true);
    h.stabilize();
    expect(h.engine('2').status().membership).toEqual({ voters: ['1', '2'], learners: [] });
    const bad = h.engine('1').step({ type: 'changeConfig', change: { type: 'removeNode', id: '9' } });
    expect(!bad.ok && bad.error.code).toBe('ERR_RAFT_BAD_CONFIG_CHANGE');
  });
});

describe('reads', () => {
  test('opt-in lease reads answer without a heartbeat round while the lease holds, and not after', () => {
    const h = cluster({ readMode: 'lease' });
    h.tick('1');
    h.stabilize();
    h.engine('1').step({ type: 'readIndex', readId: 'x' });
    let rd = h.engine('1').ready();
    expect(rd.readStates).toEqual([{ readId: 'x', index: 1 }]);
    expect(rd.messages.filter((m) => m.type === 'heartbeat')).toEqual([]);
    // Cut off: after electionTicks/2 ticks without answers the lease is gone; reads need a round.
    h.isolate('1');
    h.tick('1', 5);
    h.engine('1').ready();
    h.engine('1').step({ type: 'readIndex', readId: 'y' });
    rd = h.engine('1').ready();
    expect(rd.readStates).toEqual([]);
    expect(rd.messages.filter((m) => m.type === 'heartbeat')).toHaveLength(2);
  });

  test('no lease reads while a leadership transfer runs (its forced campaign ignores leases)', () => {
    const h = cluster({ readMode: 'lease' });
    h.tick('1');
    h.stabilize();
    h.cuts.add('1>2');
    h.engine('1').step({ type: 'transferLeadership', to: '2' });
    h.engine('1').ready();
    h.engine('1').step({ type: 'readIndex', readId: 't' });
    expect(h.engine('1').ready().readStates).toEqual([]);
  });

  test('pending reads are reported dropped when the leader steps down', () => {
    const h = cluster();
    h.isolate('1');
    h.engine('1').step({ type: 'readIndex', readId: 'q' });
    h.tick('1', 25);
    expect(h.engine('1').currentRole).toBe('follower');
    expect(h.engine('1').ready().readsDropped).toEqual(['q']);
  });

  test('pending reads are bounded', () => {
    const h = cluster({ limits: { maxPendingReads: 2 } });
    h.isolate('1');
    const rs = ['a', 'b', 'c'].map((id) => h.engine('1').step({ type: 'readIndex', readId: id }));
    expect(rs.map((r) => r.ok)).toEqual([true, true, false]);
  });
});

describe('status and trace', () => {
  test('status reports term, role, leader, commit, applied and per-peer progress', () => {
    const h = cluster();
    h.propose('1', 'a');
    h.stabilize();
    const s = h.engine('1').status();
    expect(s).toMatchObject({ id: '1', term: 1, role: 'leader', leader: '1', commit: 2, applied: 2, lastIndex: 2 });
    expect(s.peers.map((p) => [p.id, p.match, p.next, p.state])).toEqual([
      ['2', 2, 3, 'replicate'],
      ['3', 2, 3, 'replicate'],
    ]);
  });

  test('every role change is a structured event', () => {
    const n = new RaftEngine({ id: 'a', random: seededRandom(1), bootstrap: { voters: ['a'], learners: [] } });
    n.step({ type: 'campaign' });
    const events = [...n.ready().events];
    n.step({ type: 'persisted', writeId: 1 });
    events.push(...n.ready().events);
    expect(events.filter((e) => e.type === 'role').map((e) => (e.type === 'role' ? e.role : ''))).toEqual([
      'preCandidate',
      'candidate',
      'leader',
    ]);
  });
});

describe('building blocks (properties)', () => {
  test('Inflights never exceeds its bounds and frees in order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 50 })), { maxLength: 200 }), (ops) => {
        const inf = new Inflights(8, 200);
        let next = 1;
        const model: Array<[number, number]> = [];
        for (const [add, size] of ops) {
          if (add && !inf.full()) {
            inf.add(next, size);
            model.push([next++, size]);
          } else if (model.length > 0) {
            const upTo = (model[0] as [number, number])[0];
            inf.freeLE(upTo);
            model.shift();
          }
          expect(inf.count).toBe(model.length);
          expect(inf.bytes).toBe(model.reduce((s, [, b]) => s + b, 0));
          expect(inf.count).toBeLessThanOrEqual(8);
        }
      }),
    );
  });

  test('findConflictByTerm returns the largest index <= i whose term is <= t', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }),
        fc.nat(50),
        fc.nat(12),
        (steps, i, t) => {
          const log = new RaftLog(0, 0, { voters: ['a'], learners: [] });
          let term = 1;
          steps.forEach((s, k) => {
            term += s;
            log.append([{ kind: 'noop', term, index: k + 1 }]);
          });
          const got = log.findConflictByTerm(i, t);
          let want = 0;
          for (let j = Math.min(i, log.lastIndex()); j > 0; j--) {
            if (log.term(j) <= t) {
              want = j;
              break;
            }
          }
          expect(got).toBe(want);
        },
      ),
    );
  });
});
