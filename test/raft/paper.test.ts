// One test per claim of the Raft paper's §5 and Figure 2, against the engine driven by hand.
import { describe, expect, test } from 'vitest';
import { RaftEngine, type AppendMessage, type Message } from '../../raft/index.js';
import { seededRandom } from '../../runtime/base.js';
import { Harness, enc } from './harness.js';

const three = ['1', '2', '3'];

function cluster(ids = three, opts = {}): Harness {
  const h = new Harness(opts);
  h.add(ids, ids);
  return h;
}

function sent(h: Harness, id: string): Message[] {
  while (h.process(id) !== null);
  const out = h.queue.filter((m) => m.from === id);
  return out;
}

/** Tick every node once per round and let the cluster settle in between. */
function run(h: Harness, rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    h.tickAll();
    h.stabilize();
  }
}

describe('§5.1 terms', () => {
  test('a leader that sees a higher term becomes a follower of that term', () => {
    const h = cluster();
    h.elect('1');
    h.engine('1').step({
      type: 'message',
      message: { type: 'heartbeat', from: '2', to: '1', term: 5, commit: 0, readSeq: 0 },
    });
    expect(h.engine('1').currentRole).toBe('follower');
    expect(h.engine('1').currentTerm).toBe(5);
    expect(h.engine('1').currentLeader).toBe('2');
  });

  test('a request with a stale term is refused and the sender learns the newer term', () => {
    const h = cluster();
    h.elect('1');
    const before = h.engine('2').lastIndex;
    h.engine('2').step({
      type: 'message',
      message: {
        type: 'append',
        from: '3',
        to: '2',
        term: 0,
        prevIndex: before,
        prevTerm: 1,
        commit: 0,
        entries: [{ kind: 'noop', term: 0, index: before + 1 }],
      },
    });
    const out = sent(h, '2');
    expect(h.engine('2').lastIndex).toBe(before);
    expect(out).toContainEqual(expect.objectContaining({ type: 'appendResp', to: '3', term: 1, reject: true }));
  });
});

describe('§5.2 leader election', () => {
  test('a follower that hears nothing for an election timeout campaigns: new term, votes for itself', () => {
    const h = cluster(three, { preVote: false });
    h.tick('1', 20);
    const out = sent(h, '1');
    expect(h.engine('1').currentRole).toBe('candidate');
    expect(h.engine('1').currentTerm).toBe(1);
    expect(h.engine('1').status().vote).toBe('1');
    expect(
      out
        .filter((m) => m.type === 'vote')
        .map((m) => m.to)
        .sort(),
    ).toEqual(['2', '3']);
  });

  test('election timeouts are randomized in [electionTicks, 2 * electionTicks)', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const n = new RaftEngine({
        id: 'a',
        random: seededRandom(seed),
        preVote: false,
        bootstrap: { voters: ['a', 'b', 'c'], learners: [] },
      });
      let ticks = 0;
      while (n.currentRole === 'follower') {
        n.step({ type: 'tick' });
        ticks++;
      }
      seen.add(ticks);
    }
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...seen)).toBeLessThan(20);
    expect(seen.size).toBeGreaterThan(5);
  });

  test('a candidate with votes from a majority becomes leader and asserts itself at once', () => {
    const h = cluster();
    h.engine('1').step({ type: 'campaign' });
    h.stabilize();
    expect(h.engine('1').currentRole).toBe('leader');
    expect(h.engine('2').currentLeader).toBe('1');
    expect(h.engine('3').currentLeader).toBe('1');
  });

  test('a candidate that hears an append from a leader of its term becomes follower', () => {
    const h = cluster(three, { preVote: false });
    h.engine('2').step({ type: 'campaign' });
    h.process('2');
    h.drop();
    const term = h.engine('2').currentTerm;
    h.engine('2').step({
      type: 'message',
      message: { type: 'append', from: '3', to: '2', term, prevIndex: 0, prevTerm: 0, commit: 0, entries: [] },
    });
    expect(h.engine('2').currentRole).toBe('follower');
    expect(h.engine('2').currentLeader).toBe('3');
  });

  test('a split vote ends in a new election with a higher term', () => {
    const h = cluster(three, { preVote: false });
    h.engine('1').step({ type: 'campaign' });
    h.engine('2').step({ type: 'campaign' });
    h.process('1');
    h.process('2');
    h.drop('1');
    h.drop('2');
    // node 3 is the decider: drop its answers so nobody gets a majority
    h.deliver('3');
    h.process('3');
    h.drop();
    expect(h.engine('1').currentRole).toBe('candidate');
    expect(h.engine('2').currentRole).toBe('candidate');
    h.tick('1', 20);
    expect(h.engine('1').currentTerm).toBe(2);
    h.stabilize();
    expect([...h.nodes.values()].filter((n) => n.node.currentRole === 'leader')).toHaveLength(1);
  });

  test('a vote request with a stale term is refused', () => {
    const h = new Harness({ preVote: false });
    h.addWithLog('3', three, [1], 4);
    h.engine('3').step({
      type: 'message',
      message: { type: 'vote', from: '1', to: '3', term: 3, pre: false, transfer: false, lastIndex: 9, lastTerm: 3 },
    });
    h.flush('3');
    expect(h.queue.filter((m) => m.type === 'voteResp' && m.granted)).toEqual([]);
    expect(h.engine('3').currentTerm).toBe(4);
    expect(h.engine('3').status().vote).toBeNull();
  });

  test('a node votes at most once per term, and the vote survives a restart', () => {
    const h = cluster(three, { preVote: false });
    const ask = (from: string): void => {
      h.engine('3').step({
        type: 'message',
        message: { type: 'vote', from, to: '3', term: 1, pre: false, transfer: false, lastIndex: 0, lastTerm: 0 },
      });
    };
    ask('1');
    h.flush('3');
    h.crash('3');
    h.restart('3');
    ask('2');
    h.flush('3');
    const answers = h.queue.filter((m) => m.type === 'voteResp');
    expect(answers).toContainEqual(expect.objectContaining({ to: '1', granted: true }));
    expect(answers).toContainEqual(expect.objectContaining({ to: '2', granted: false }));
  });

  test('a leader sends heartbeats in idle periods so followers do not campaign', () => {
    const h = cluster();
    h.elect('1');
    for (let i = 0; i < 100; i++) {
      h.tickAll();
      h.stabilize();
    }
    expect(h.engine('1').currentRole).toBe('leader');
    expect(h.engine('1').currentTerm).toBe(1);
  });
});

describe('§5.3 log replication', () => {
  test('the leader commits an entry once a majority stores it, and every node applies it in order', () => {
    const h = cluster();
    h.elect('1');
    h.propose('1', 'x');
    h.propose('1', 'y');
    h.process('1');
    // Only node 2 gets the appends: 2 of 3 is a majority.
    h.deliver('2');
    h.drop('3');
    h.flush('2');
    h.deliver('1');
    h.flush('1');
    expect(h.engine('1').commitIndex).toBe(3);
    expect(h.get('1').applied).toEqual(['x', 'y']);
    h.stabilize();
    h.tickAll();
    h.stabilize();
    expect(h.get('3').applied).toEqual(['x', 'y']);
  });

  test('an append whose previous entry does not match is rejected and nothing is stored', () => {
    const h = new Harness();
    h.addWithLog('2', three, [1, 1], 2);
    h.engine('2').step({
      type: 'message',
      message: {
        type: 'append',
        from: '1',
        to: '2',
        term: 3,
        prevIndex: 2,
        prevTerm: 2,
        commit: 0,
        entries: [{ kind: 'noop', term: 3, index: 3 }],
      },
    });
    const out = sent(h, '2');
    expect(h.engine('2').lastIndex).toBe(2);
    expect(out).toContainEqual(expect.objectContaining({ type: 'appendResp', reject: true, index: 2 }));
  });

  test('Figure 7: followers with missing, extra and conflicting entries all converge on the leader log', () => {
    const leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<string, number[]> = {
      a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
      b: [1, 1, 1, 4],
      c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      e: [1, 1, 1, 4, 4, 4, 4],
      f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    };
    for (const [name, log] of Object.entries(followers)) {
      const ids = ['L', name, 'x'];
      const h = new Harness({ checkQuorum: false, preVote: false });
      h.addWithLog('L', ids, leader, 7);
      h.addWithLog(name, ids, log, 7);
      h.addWithLog('x', ids, leader, 7);
      h.elect('L');
      h.propose('L', 'z');
      h.stabilize();
      h.tickAll();
      h.stabilize();
      const l = h.engine('L');
      const f = h.engine(name);
      expect(f.lastIndex, name).toBe(l.lastIndex);
      for (let i = 1; i <= l.lastIndex; i++) expect(f.termAt(i), `${name}@${i}`).toBe(l.termAt(i));
    }
  });

  test('log matching: entries with the same index and term have identical prefixes everywhere', () => {
    const h = cluster();
    h.elect('1');
    for (let i = 0; i < 20; i++) {
      h.propose('1', `c${i}`);
      if (i % 3 === 0) h.drop('3');
      h.stabilize();
    }
    h.tickAll();
    h.stabilize();
    const a = h.engine('1');
    for (const id of ['2', '3']) {
      const b = h.engine(id);
      for (let i = 1; i <= Math.min(a.lastIndex, b.lastIndex); i++) {
        if (a.termAt(i) === b.termAt(i)) expect(b.entryAt(i)).toEqual(a.entryAt(i));
      }
    }
  });

  test('a leader never overwrites or deletes its own entries', () => {
    const h = new Harness({ preVote: false, checkQuorum: false });
    h.addWithLog('1', three, [1, 2], 2);
    h.addWithLog('2', three, [1, 1, 1, 1], 1);
    h.addWithLog('3', three, [1], 1);
    h.elect('1');
    const mine = [1, 2].map((i) => h.engine('1').entryAt(i));
    // Node 2's conflicting tail must not reach the leader.
    h.engine('1').step({
      type: 'message',
      message: {
        type: 'append',
        from: '2',
        to: '1',
        term: 1,
        prevIndex: 1,
        prevTerm: 1,
        commit: 0,
        entries: [{ kind: 'noop', term: 1, index: 2 }],
      },
    });
    h.stabilize();
    expect([1, 2].map((i) => h.engine('1').entryAt(i))).toEqual(mine);
    expect(h.engine('2').termAt(2)).toBe(2);
  });

  test('a follower sets commit to min(leaderCommit, index of last new entry)', () => {
    const h = new Harness();
    h.addWithLog('2', three, [1, 1, 1, 1, 1], 1);
    h.engine('2').step({
      type: 'message',
      message: {
        type: 'append',
        from: '1',
        to: '2',
        term: 1,
        prevIndex: 1,
        prevTerm: 1,
        commit: 5,
        entries: [{ kind: 'noop', term: 1, index: 2 }],
      },
    });
    // Entries 3..5 may not match the leader's: only what this append proved is committed.
    expect(h.engine('2').commitIndex).toBe(2);
  });

  test('duplicated and reordered appends are harmless (RPCs are idempotent)', () => {
    const h = cluster();
    h.elect('1');
    h.propose('1', 'a');
    h.process('1');
    const appends = h.queue.filter((m): m is AppendMessage => m.type === 'append' && m.to === '2');
    h.propose('1', 'b');
    h.process('1');
    const later = h.queue.filter((m): m is AppendMessage => m.type === 'append' && m.to === '2');
    for (const m of [...later, ...appends, ...later, ...appends]) h.engine('2').step({ type: 'message', message: m });
    h.stabilize();
    h.tickAll();
    h.stabilize();
    expect(h.get('2').applied).toEqual(['a', 'b']);
  });
});

describe('§5.4 safety', () => {
  test('§5.4.1 a voter refuses a candidate whose log is less up to date (last term, then length)', () => {
    const cases: Array<[number[], number, number, boolean]> = [
      [[1, 2], 2, 1, false], // candidate's last term older
      [[1, 2], 1, 2, false], // same last term, shorter
      [[1, 2], 2, 2, true], // equal
      [[1, 2], 1, 3, true], // newer last term, shorter
    ];
    for (const [log, candLast, candTerm, granted] of cases) {
      const h = new Harness({ preVote: false });
      h.addWithLog('3', three, log, 3);
      h.engine('3').step({
        type: 'message',
        message: {
          type: 'vote',
          from: '1',
          to: '3',
          term: 4,
          pre: false,
          transfer: false,
          lastIndex: candLast,
          lastTerm: candTerm,
        },
      });
      const out = sent(h, '3');
      expect(out).toContainEqual(expect.objectContaining({ type: 'voteResp', granted }));
    }
  });

  function figure8(broken: boolean): Harness {
    // Figure 8 (c): S1 leads in term 4 and replicates its term-2 entry (index 2) to S2 and S3,
    // one entry per append, so for a moment a majority of five holds index 2 while the
    // term-4 no-op (index 3) does not.
    const ids = ['1', '2', '3', '4', '5'];
    const h = new Harness({ limits: { maxAppendEntries: 1 }, unsafeTestOnly: { commitByCountingOldTerms: broken } });
    h.addWithLog('1', ids, [1, 2], 3);
    h.addWithLog('2', ids, [1], 3);
    h.addWithLog('3', ids, [1], 3);
    h.addWithLog('4', ids, [1], 3);
    h.addWithLog('5', ids, [1, 3], 3);
    h.isolate('4');
    h.isolate('5');
    h.engine('1').step({ type: 'campaign' });
    const match = (id: string): number =>
      h
        .engine('1')
        .status()
        .peers.find((p) => p.id === id)?.match ?? 0;
    for (let i = 0; i < 100 && !(match('2') >= 2 && match('3') >= 2); i++) {
      for (const id of ids) h.process(id);
      h.deliver();
    }
    expect(h.engine('1').currentTerm).toBe(4);
    expect(Math.min(match('2'), match('3'))).toBe(2);
    return h;
  }

  test('§5.4.2 an old-term entry is not committed by counting replicas; it commits with an own-term entry', () => {
    const h = figure8(false);
    expect(h.engine('1').commitIndex).toBe(0);
    h.stabilize();
    h.heal();
    h.tickAll();
    h.stabilize();
    // Once the term-4 no-op is on a majority, index 2 commits with it.
    expect(h.engine('1').commitIndex).toBe(3);
  });

  test('§5.4.2 the broken variant that counts old-term replicas does commit index 2 here', () => {
    expect(figure8(true).engine('1').commitIndex).toBe(2);
  });

  test('leader completeness: a new leader holds every committed entry', () => {
    const h = cluster();
    h.elect('1');
    h.propose('1', 'kept');
    h.stabilize();
    h.isolate('1');
    run(h, 60);
    const leader = ['2', '3'].find((id) => h.engine(id).currentRole === 'leader');
    expect(leader).toBeDefined();
    expect(h.get(leader as string).applied).toContain('kept');
  });
});

describe('§5.5 crashes', () => {
  test('a follower that crashes and restarts catches up from the leader', () => {
    const h = cluster();
    h.elect('1');
    h.crash('3');
    h.propose('1', 'p');
    h.stabilize();
    h.restart('3');
    h.tickAll();
    h.stabilize();
    expect(h.get('3').applied).toEqual(['p']);
  });

  test('committed entries survive a leader crash', () => {
    const h = cluster();
    h.elect('1');
    h.propose('1', 'q');
    h.stabilize();
    h.crash('1');
    run(h, 60);
    h.restart('1');
    h.tickAll();
    h.stabilize();
    for (const id of three) expect(h.get(id).applied).toEqual(['q']);
  });
});

test('proposals on a follower are refused with the known leader', () => {
  const h = cluster();
  h.elect('1');
  const r = h.engine('2').step({ type: 'propose', commands: [enc('x')] });
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error.code).toBe('ERR_RAFT_NOT_LEADER');
    expect(r.error.leader).toBe('1');
  }
});
