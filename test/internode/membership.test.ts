// The membership core, as a table of (state, input) → output: admission of an authenticated
// peer, attaching its connection, down, redial and its backoff, member-list learning, the
// simultaneous-connect tie-break, and forgetting. Pure: time is an input, nothing else moves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MembershipCore, keepNewConnection, type NodeEvent } from '../../internode/membership.js';
import {
  FORGET_DEPARTED_AFTER_MS,
  FORGET_MEMBER_AFTER_MS,
  MAX_CONNECTIONS_PER_PEER,
  STABLE_UP_MS,
} from '../../internode/limits.js';

const brief = (events: readonly NodeEvent[]): string[] =>
  events.map((e) => `${e.type} ${e.node}@${e.incarnation}${e.type === 'down' ? ` ${e.reason}` : ''}`);

const id = (node: string, incarnation = 1, address = `${node}:1`) => ({ node, incarnation, address });

/** States, each built from inputs at t=0 (self is 'm', listening at m:1). */
const states: Record<string, (maxPeers?: number) => MembershipCore> = {
  empty: (maxPeers) => new MembershipCore(id('m'), { ...(maxPeers !== undefined ? { maxPeers } : {}) }),
  'b@1 up': () => {
    const m = states.empty!();
    m.attach(id('b'), 0, { connections: 0 });
    return m;
  },
  'b@2 up': () => {
    const m = states.empty!();
    m.attach(id('b', 2), 0, { connections: 0 });
    return m;
  },
  'b@1 down (timeout)': () => {
    const m = states['b@1 up']!();
    m.down('b', 1, 'timeout', 10);
    return m;
  },
  'b@1 down (left)': () => {
    const m = states['b@1 up']!();
    m.down('b', 1, 'left', 10);
    return m;
  },
  'full (2), both up': () => {
    const m = states.empty!(2);
    m.attach(id('b'), 0, { connections: 0 });
    m.attach(id('c'), 0, { connections: 0 });
    return m;
  },
  'full (2), c down': () => {
    const m = states['full (2), both up']!();
    m.down('c', 1, 'disconnected', 5);
    return m;
  },
};

describe('admission of an authenticated peer (before it is welcomed)', () => {
  const rows: [
    state: string,
    peer: ReturnType<typeof id>,
    facts: Parameters<MembershipCore['admit']>[1],
    out: string,
  ][] = [
    ['empty', id('b'), { connections: 0 }, 'admit'],
    ['empty', id('m'), { connections: 0 }, 'refuse selfConnection'],
    ['b@1 up', id('m', 9), { connections: 0 }, 'refuse selfConnection'],
    ['b@2 up', id('b', 1), { connections: 1 }, 'refuse staleIncarnation'],
    ['b@1 up', id('b', 1), { connections: 1 }, 'admit'],
    ['b@1 up', id('b', 1), { connections: MAX_CONNECTIONS_PER_PEER }, 'refuse tooManyConnections'],
    ['b@1 up', id('b', 2), { connections: 1 }, 'probe'],
    ['b@1 up', id('b', 2), { connections: 1, probe: 'answered' }, 'refuse nameInUse'],
    ['b@1 up', id('b', 2), { connections: 1, probe: 'silent' }, 'admit'],
    ['b@1 up', id('b', 2), { connections: 0 }, 'admit'],
    ['b@1 down (timeout)', id('b', 2), { connections: 0 }, 'admit'],
    ['b@1 down (timeout)', id('b', 1), { connections: 0 }, 'admit'],
    ['full (2), both up', id('d'), { connections: 0 }, 'refuse tooManyPeers'],
    ['full (2), both up', id('b'), { connections: 1 }, 'admit'],
    ['full (2), c down', id('d'), { connections: 0 }, 'admit'],
  ];
  it.each(rows)('%s, admit %o with %o → %s', (state, peer, facts, out) => {
    const a = states[state]!().admit(peer, facts);
    expect(a.kind === 'refuse' ? `refuse ${a.refusal}` : a.kind).toBe(out);
  });
});

describe('attaching a welcomed connection', () => {
  const rows: [state: string, peer: ReturnType<typeof id>, connections: number, out: string][] = [
    ['empty', id('b'), 0, 'up [up b@1]'],
    ['b@1 up', id('b'), 1, 'extra'],
    ['b@1 up', id('b'), MAX_CONNECTIONS_PER_PEER, 'refuse tooManyConnections'],
    ['b@1 down (timeout)', id('b'), 0, 'up [up b@1]'],
    ['b@1 up', id('b', 2), 0, 'up [down b@1 new-incarnation, up b@2] replaces 1'],
    ['b@1 down (timeout)', id('b', 2), 0, 'up [up b@2] replaces 1'],
    ['b@2 up', id('b', 1), 0, 'refuse staleIncarnation'],
    ['empty', id('m'), 0, 'refuse selfConnection'],
    ['full (2), both up', id('d'), 0, 'refuse tooManyPeers'],
    ['full (2), c down', id('d'), 0, 'up [up d@1] forgets c'],
  ];
  it.each(rows)('%s, attach %o → %s', (state, peer, connections, out) => {
    const a = states[state]!().attach(peer, 100, { connections });
    const text =
      a.kind === 'refuse'
        ? `refuse ${a.refusal}`
        : a.kind === 'extra'
          ? 'extra'
          : `up [${brief(a.events).join(', ')}]` +
            (a.replaced !== undefined ? ` replaces ${a.replaced}` : '') +
            (a.forgotten.length > 0 ? ` forgets ${a.forgotten.join(',')}` : '');
    expect(text).toBe(out);
  });

  it('keeps an address learned before when the new connection has none', () => {
    const m = states['b@1 down (timeout)']!();
    m.attach(id('b', 2, ''), 100, { connections: 0 });
    expect(m.get('b')).toMatchObject({ incarnation: 2, address: 'b:1', state: 'up' });
  });
});

describe('down', () => {
  it('an up member goes down once; a second down, or one for another incarnation, is nothing', () => {
    const m = states['b@1 up']!();
    expect(m.down('b', 2, 'timeout', 5)).toBeUndefined();
    expect(brief([m.down('b', 1, 'timeout', 5)!])).toEqual(['down b@1 timeout']);
    expect(m.down('b', 1, 'disconnected', 6)).toBeUndefined();
    expect(m.down('zz', 1, 'timeout', 6)).toBeUndefined();
    expect(m.upNodes()).toEqual([]);
  });
});

describe('redial and its backoff', () => {
  const rows: [state: string, out: string][] = [
    ['b@1 down (timeout)', 'b:1 attempt 1'], // it was up for 10 ms: not stable, so it backs off further
    ['b@1 down (left)', 'none'], // it left: never redialed
    ['b@1 up', 'none'],
    ['empty', 'none'],
  ];
  it.each(rows)('%s → %s', (state, out) => {
    const r = states[state]!().redial('b', 1);
    expect(r === undefined ? 'none' : `${r.address} attempt ${r.attempt}`).toBe(out);
  });

  it('a connection that stayed up STABLE_UP_MS resets the backoff; failed redials raise it', () => {
    const m = states['b@1 up']!();
    m.down('b', 1, 'disconnected', STABLE_UP_MS);
    expect(m.redial('b', 1)?.attempt).toBe(0);
    m.redialFailed('b', 1);
    m.redialFailed('b', 1);
    expect(m.redial('b', 1)?.attempt).toBe(2);
    m.attach(id('b'), STABLE_UP_MS + 1, { connections: 0 });
    m.down('b', 1, 'disconnected', STABLE_UP_MS + 2); // a flap: up for 1 ms
    expect(m.redial('b', 1)?.attempt).toBe(3);
  });

  it('a member with no address is never redialed', () => {
    const m = states.empty!();
    m.attach(id('b', 1, ''), 0, { connections: 0 });
    m.down('b', 1, 'timeout', 1);
    expect(m.redial('b', 1)).toBeUndefined();
  });
});

describe('member-list learning: who dials whom', () => {
  const rows: [state: string, entries: unknown[], out: string][] = [
    ['empty', [['z', 'z:1', 1]], 'dial z:1'], // m < z: the smaller name dials
    ['empty', [['a', 'a:1', 1]], 'none'], // a < m: a dials us
    ['b@1 down (timeout)', [['b', 'b:1', 1]], 'dial b:1'], // known and lost: either side redials
    ['b@1 up', [['b', 'b:1', 1]], 'none'], // already up
    ['b@2 up', [['b', 'b:1', 1]], 'none'], // older than known
    ['b@1 up', [['b', 'b:2', 2]], 'dial b:2'], // a newer incarnation
    ['empty', [['m', 'm:1', 1]], 'none'], // ourselves
    ['empty', [['bad name!', 'x:1', 1], ['z', '', 1], ['z', 'z:1', -1], ['z', 'z:1'], 'z'], 'none; 5 malformed'],
  ];
  it.each(rows)('%s, learn %j → %s', (state, entries, out) => {
    const l = states[state]!().learn(entries);
    const text =
      (l.dial.length > 0 ? `dial ${l.dial.join(',')}` : 'none') + (l.malformed > 0 ? `; ${l.malformed} malformed` : '');
    expect(text).toBe(out);
  });

  it('a node that does not listen dials every member it hears of (nobody can dial it)', () => {
    const m = new MembershipCore(id('m', 1, ''));
    expect(m.learn([['a', 'a:1', 1]]).dial).toEqual(['a:1']);
  });

  it('the member list for a peer holds the members up with an address, except the peer', () => {
    const m = states['b@1 up']!();
    m.attach(id('c'), 0, { connections: 0 });
    m.attach(id('d', 1, ''), 0, { connections: 0 });
    m.attach(id('e'), 0, { connections: 0 });
    m.down('e', 1, 'timeout', 1);
    expect(m.memberList('c')).toEqual([['b', 'b:1', 1]]);
    expect(m.memberList('x', ['c'])).toEqual([['c', 'c:1', 1]]);
  });
});

describe('the simultaneous-connect tie-break', () => {
  const rows: [self: string, peer: string, newDialer: string, oldDialer: string, keepNew: boolean][] = [
    ['a', 'b', 'a', 'b', true], // the new one was dialed by the smaller name, the old one not
    ['a', 'b', 'b', 'a', false],
    ['a', 'b', 'a', 'a', false], // both by the smaller name: keep what we have
    ['a', 'b', 'b', 'b', false],
    ['b', 'a', 'a', 'b', true], // the same answer from the other side
    ['b', 'a', 'b', 'a', false],
  ];
  it.each(rows)('self %s, peer %s: new by %s, old by %s → keep new: %s', (self, peer, n, o, keep) => {
    expect(keepNewConnection(self, peer, n, o)).toBe(keep);
  });

  it('both sides always keep the same connection', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), (newByA, oldByA) => {
        const n = newByA ? 'a' : 'b';
        const o = oldByA ? 'a' : 'b';
        const keptByA = keepNewConnection('a', 'b', n, o) ? n : o;
        const keptByB = keepNewConnection('b', 'a', n, o) ? n : o;
        return keptByA === keptByB;
      }),
    );
  });
});

describe('forgetting', () => {
  const rows: [state: string, at: number, out: string][] = [
    ['b@1 down (left)', 10 + FORGET_DEPARTED_AFTER_MS - 1, 'kept'],
    ['b@1 down (left)', 10 + FORGET_DEPARTED_AFTER_MS, 'forgot b'],
    ['b@1 down (timeout)', 10 + FORGET_DEPARTED_AFTER_MS, 'kept'],
    ['b@1 down (timeout)', 10 + FORGET_MEMBER_AFTER_MS, 'forgot b'],
    ['b@1 up', 10 + FORGET_MEMBER_AFTER_MS, 'kept'],
  ];
  it.each(rows)('%s, tick at %d → %s', (state, at, out) => {
    const forgotten = states[state]!().tick(at);
    expect(forgotten.length > 0 ? `forgot ${forgotten.join(',')}` : 'kept').toBe(out);
  });

  it('a departed peer is forgotten, so 1 024 names that came and went leave room for the next', () => {
    const m = new MembershipCore(id('m'), { maxPeers: 4 });
    let t = 0;
    for (let i = 0; i < 100; i++) {
      const a = m.attach(id(`pod-${i}`), t, { connections: 0 });
      expect(a.kind).toBe('up');
      m.down(`pod-${i}`, 1, 'left', t + 1);
      t += 10;
    }
    expect(m.size).toBeLessThanOrEqual(4);
  });

  it('forget() drops a down member at once, never an up one', () => {
    const m = states['b@1 up']!();
    expect(m.forget('b')).toBe(false);
    m.down('b', 1, 'timeout', 1);
    expect(m.forget('b')).toBe(true);
    expect(m.get('b')).toBeUndefined();
  });
});
