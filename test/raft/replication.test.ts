// The leader's side of replication (raft/replication.ts): which followers it tracks, the
// appends and snapshots flow control lets out, and what answers change.
import { describe, expect, it } from 'vitest';
import { validateLimits } from '../../raft/limits.js';
import { RaftLog } from '../../raft/log.js';
import { Replication, type Outbox } from '../../raft/replication.js';
import type { AppendResponse, Membership, Message, RaftEvent, Snapshot } from '../../raft/types.js';

const limits = validateLimits({ maxAppendEntries: 2, maxInflightMessages: 2, electionTicks: 10, heartbeatTicks: 1 });

function setup(membership: Membership = { voters: ['a', 'b', 'c'], learners: ['d'] }, entries = 6) {
  const log = new RaftLog(0, 0, membership);
  for (let i = 1; i <= entries; i++) log.append([{ kind: 'noop', term: 1, index: i }]);
  const rep = new Replication('a', log, limits);
  rep.sync();
  const messages: Message[] = [];
  const events: RaftEvent[] = [];
  const out = (snapshot: Snapshot | null = null): Outbox => ({ term: 1, commit: 0, snapshot, messages, events });
  return { log, rep, messages, events, out };
}

const ack = (from: string, index: number, over: Partial<AppendResponse> = {}): AppendResponse => ({
  type: 'appendResp',
  from,
  to: 'a',
  term: 1,
  reject: false,
  index,
  hintIndex: 0,
  hintTerm: 0,
  ...over,
});

describe('Replication', () => {
  it('tracks exactly the other members, new ones probing after the last entry', () => {
    const { log, rep } = setup();
    expect([...rep.progress()].map(([id]) => id)).toEqual(['b', 'c', 'd']);
    expect(rep.get('b')).toMatchObject({ state: 'probe', next: 7, match: 0 });
    log.append([{ kind: 'config', term: 1, index: 7, membership: { voters: ['a', 'b'], learners: [] } }]);
    rep.sync();
    expect([...rep.progress()].map(([id]) => id)).toEqual(['b']);
  });

  it('a probe sends one append and waits; a match turns it into a bounded pipeline', () => {
    const { rep, messages, events, out } = setup();
    const b = rep.get('b');
    if (b === undefined) throw new Error('no progress for b');
    expect(rep.sendAppend('b', b, true, out())).toBe(true);
    expect(rep.sendAppend('b', b, true, out())).toBe(false);
    expect(messages).toHaveLength(1);
    // b matches nothing: its rejection hints at 0, so the leader backs up to the start.
    expect(rep.appendResp(ack('b', 6, { reject: true, hintIndex: 0 }), out())).toBeNull();
    expect(b.next).toBe(1);
    expect(messages[1]).toMatchObject({ type: 'append', to: 'b', prevIndex: 0, entries: [{ index: 1 }, { index: 2 }] });
    const advanced = rep.appendResp(ack('b', 2), out());
    expect(advanced).toEqual({ pr: b, wasPaused: true });
    expect(events).toEqual([{ type: 'progress', peer: 'b', state: 'replicate' }]);
    rep.fill('b', b, out());
    // Window of 2 appends of at most 2 entries each: 3..4 and 5..6.
    expect(messages.slice(2).map((m) => (m.type === 'append' ? m.prevIndex : -1))).toEqual([2, 4]);
    expect(rep.appendResp(ack('b', 2), out())).toBeNull();
  });

  it('sends the snapshot once the log no longer holds what a follower needs, and retries it after a timeout', () => {
    const { log, rep, messages, events, out } = setup();
    log.compactTo(4);
    const c = rep.get('c');
    if (c === undefined) throw new Error('no progress for c');
    c.next = 3;
    expect(rep.sendAppend('c', c, true, out(null))).toBe(false);
    const snapshot: Snapshot = { meta: { index: 4, term: 1, membership: log.membershipAt(4) }, data: new Uint8Array() };
    expect(rep.sendAppend('c', c, true, out(snapshot))).toBe(true);
    expect(messages).toEqual([{ type: 'snapshot', from: 'a', to: 'c', term: 1, snapshot }]);
    expect(c.state).toBe('snapshot');
    for (let i = 0; i < limits.electionTicks; i++) rep.tick(events);
    expect(c.state).toBe('probe');
    expect(events.map((e) => (e.type === 'progress' ? e.state : e.type))).toEqual(['snapshot', 'probe']);
  });

  it('heartbeat answers confirm read rounds once, and count toward check-quorum', () => {
    const { rep, messages, out } = setup();
    const voters = ['a', 'b', 'c'];
    rep.broadcastHeartbeat(1, out());
    expect(messages.map((m) => m.type)).toEqual(['heartbeat', 'heartbeat', 'heartbeat']);
    expect(rep.quorumActive(voters)).toBe(false);
    const resp = { type: 'heartbeatResp', from: 'b', to: 'a', term: 1, readSeq: 1 } as const;
    expect(rep.heartbeatResp(resp, 1, out())).toBe(true);
    expect(rep.heartbeatResp(resp, 1, out())).toBe(false);
    expect(rep.heartbeatResp({ ...resp, from: 'c', readSeq: 2 }, 1, out())).toBe(false);
    expect(rep.quorumActive(voters)).toBe(true);
    rep.forgetActivity();
    expect(rep.quorumActive(voters)).toBe(false);
  });

  it('the quorum index counts the leader at the index given for it', () => {
    const { rep, out } = setup();
    rep.appendResp(ack('b', 4), out());
    expect(rep.quorumIndex(['a', 'b', 'c'], 6)).toBe(4);
    expect(rep.quorumIndex(['a', 'b', 'c'], 3)).toBe(3);
  });
});
