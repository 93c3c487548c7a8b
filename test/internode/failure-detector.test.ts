// The failure detector: a handshake brings a node up, silence makes it suspect and then down,
// a lost last connection or a newer incarnation makes it down, our own event-loop stalls push
// deadlines out instead of blaming peers, and per node the events follow one grammar (never
// two downs without an up, never an event for a stale incarnation). Bad config and bad input are
// typed errors that change nothing; every bound holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FailureDetectorEvent, FailureDetectorOptions } from '../../internode/failure-detector.js';
import {
  FailureDetector,
  FailureDetectorError,
  resolveFailureDetectorConfig,
} from '../../internode/failure-detector.js';
import {
  DEFAULT_DOWN_AFTER_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_SUSPECT_AFTER_MS,
  MAX_CONNECTIONS_PER_PEER,
  MAX_DETECTOR_INTERVAL_MS,
  MAX_TRACKED_PEERS,
} from '../../internode/limits.js';
import { isTroupeError } from '../../runtime/errors.js';

/** A compact form of events for readable expectations: `type:node/incarnation@at[:reason]`. */
function brief(events: readonly FailureDetectorEvent[]): string[] {
  return events.map((e) => `${e.type}:${e.node}/${e.incarnation}@${e.at}${e.type === 'down' ? `:${e.reason}` : ''}`);
}

function expectDetectorError(fn: () => unknown, kind: string, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FailureDetectorError);
  expect(isTroupeError(caught)).toBe(true);
  expect((caught as FailureDetectorError).kind).toBe(kind);
  expect((caught as FailureDetectorError).code).toBe(code);
}

describe('configuration', () => {
  it('defaults to heartbeat 1000 ms, suspect after 1500 ms, down after 3000 ms', () => {
    const fd = new FailureDetector();
    expect(fd.config).toEqual({
      heartbeatIntervalMs: 1000,
      suspectAfterMs: 1500,
      downAfterMs: 3000,
      maxPeers: MAX_TRACKED_PEERS,
    });
    expect([DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_SUSPECT_AFTER_MS, DEFAULT_DOWN_AFTER_MS]).toEqual([
      1000, 1500, 3000,
    ]);
  });

  it('accepts a consistent custom configuration', () => {
    expect(
      resolveFailureDetectorConfig({ heartbeatIntervalMs: 100, suspectAfterMs: 101, downAfterMs: 102, maxPeers: 1 }),
    ).toEqual({
      heartbeatIntervalMs: 100,
      suspectAfterMs: 101,
      downAfterMs: 102,
      maxPeers: 1,
    });
  });

  const bad: [string, FailureDetectorOptions][] = [
    ['zero heartbeat', { heartbeatIntervalMs: 0 }],
    ['negative suspect', { suspectAfterMs: -5 }],
    ['fractional down', { downAfterMs: 3000.5 }],
    ['NaN heartbeat', { heartbeatIntervalMs: Number.NaN }],
    ['infinite down', { downAfterMs: Number.POSITIVE_INFINITY }],
    ['interval over the maximum', { downAfterMs: MAX_DETECTOR_INTERVAL_MS + 1 }],
    ['string interval', { suspectAfterMs: '1500' as unknown as number }],
    ['suspect not after heartbeat', { heartbeatIntervalMs: 1500, suspectAfterMs: 1500 }],
    ['down not after suspect', { suspectAfterMs: 3000, downAfterMs: 3000 }],
    ['down before suspect', { suspectAfterMs: 2000, downAfterMs: 1800 }],
    ['zero maxPeers', { maxPeers: 0 }],
    ['maxPeers over the hard cap', { maxPeers: MAX_TRACKED_PEERS + 1 }],
    ['fractional maxPeers', { maxPeers: 2.5 }],
    ['a null interval', { downAfterMs: null as unknown as number }],
  ];
  for (const [name, options] of bad) {
    it(`refuses ${name} with a typed bad-config error`, () => {
      expectDetectorError(() => new FailureDetector(options), 'bad-config', 'ERR_BAD_ARGUMENT');
    });
  }

  it('refuses options that are not an object', () => {
    expectDetectorError(
      () => new FailureDetector(null as unknown as FailureDetectorOptions),
      'bad-config',
      'ERR_BAD_ARGUMENT',
    );
  });
});

describe('up, suspect, down by silence', () => {
  it('a handshake brings a node up, once', () => {
    const fd = new FailureDetector();
    expect(brief(fd.peerConnected('b', 1, 0))).toEqual(['up:b/1@0']);
    expect(fd.status('b')).toMatchObject({ status: 'up', connections: 1, lastHeardAt: 0 });
    expect(fd.tick(100)).toEqual([]);
  });

  it('heartbeats every interval keep a node up forever', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    for (let t = 1000; t <= 60_000; t += 1000) {
      expect(fd.heartbeatSeen('b', 1, t)).toEqual([]);
      expect(fd.tick(t + 999)).toEqual([]);
    }
    expect(fd.status('b')?.status).toBe('up');
  });

  it('suspects at exactly suspectAfterMs of silence, not a millisecond before', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.heartbeatSeen('b', 1, 1000);
    expect(fd.tick(2499)).toEqual([]);
    const events = fd.tick(2500);
    expect(brief(events)).toEqual(['suspect:b/1@2500']);
    expect(events[0]).toMatchObject({ silentMs: 1500 });
    expect(fd.tick(2600)).toEqual([]); // not suspected twice
  });

  it('never declares down on suspicion alone: down needs downAfterMs of silence', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    expect(brief(fd.tick(1500))).toEqual(['suspect:b/1@1500']);
    expect(fd.tick(2999)).toEqual([]);
    expect(fd.status('b')?.status).toBe('suspect');
    expect(brief(fd.tick(3000))).toEqual(['down:b/1@3000:timeout']);
    expect(fd.tick(10_000)).toEqual([]); // never down twice
  });

  it('a tick that jumps past both deadlines emits suspect then down, in that order', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    expect(brief(fd.tick(5000))).toEqual(['suspect:b/1@5000', 'down:b/1@5000:timeout']);
  });

  it('a heartbeat clears suspicion and restarts both deadlines', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.tick(2000);
    expect(brief(fd.heartbeatSeen('b', 1, 2900))).toEqual(['unsuspect:b/1@2900']);
    expect(fd.tick(4399)).toEqual([]);
    expect(brief(fd.tick(4400))).toEqual(['suspect:b/1@4400']);
    expect(brief(fd.tick(5900))).toEqual(['down:b/1@5900:timeout']);
  });

  it('deadlines are judged by tick only: a heartbeat that arrives late, before any tick, wins', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    // Our loop was busy: no tick ran for 10 s, then the heartbeat queued in the socket is read.
    expect(fd.heartbeatSeen('b', 1, 10_000)).toEqual([]);
    expect(fd.tick(10_001)).toEqual([]);
    expect(fd.status('b')?.status).toBe('up');
  });

  it('a second handshake of a suspect node clears the suspicion', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.tick(1600);
    expect(brief(fd.peerConnected('b', 1, 1700))).toEqual(['unsuspect:b/1@1700']);
    expect(fd.status('b')).toMatchObject({ status: 'up', connections: 2, lastHeardAt: 1700 });
  });

  it('tracks each node on its own clock', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.peerConnected('c', 7, 1000);
    expect(brief(fd.tick(1500))).toEqual(['suspect:b/1@1500']);
    expect(brief(fd.tick(2500))).toEqual(['suspect:c/7@2500']);
    expect(brief(fd.tick(3000))).toEqual(['down:b/1@3000:timeout']);
    expect(brief(fd.tick(4000))).toEqual(['down:c/7@4000:timeout']);
  });
});

describe('our own event-loop delay', () => {
  it('pushes every live deadline out by the delay instead of blaming the peers', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.peerConnected('c', 1, 0);
    // A 2 s stall ended at 2600: without the credit both would be suspect now.
    expect(fd.eventLoopDelay(2000, 2600)).toEqual([]);
    expect(fd.tick(2600)).toEqual([]);
    expect(fd.nextDeadline()).toBe(3500);
    expect(brief(fd.tick(3500))).toEqual(['suspect:b/1@3500', 'suspect:c/1@3500']);
    expect(brief(fd.tick(5000))).toEqual(['down:b/1@5000:timeout', 'down:c/1@5000:timeout']);
    expect(fd.stats.loopDelayObservedMs).toBe(2000);
  });

  it('never credits past now: after a huge stall every node gets one fresh window, no more', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.eventLoopDelay(60_000, 1000);
    expect(fd.status('b')?.lastHeardAt).toBe(1000);
    expect(fd.tick(2499)).toEqual([]);
    expect(brief(fd.tick(2500))).toEqual(['suspect:b/1@2500']);
    expect(fd.tick(3999)).toEqual([]);
    expect(brief(fd.tick(4000))).toEqual(['down:b/1@4000:timeout']);
  });

  it('does not clear a suspicion by itself (only a sign of life does), but delays the down', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.tick(1500);
    fd.eventLoopDelay(1000, 2500);
    expect(fd.status('b')?.status).toBe('suspect');
    expect(fd.tick(3999)).toEqual([]);
    expect(brief(fd.tick(4000))).toEqual(['down:b/1@4000:timeout']);
  });

  it('leaves down nodes alone and a zero delay changes nothing', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.tick(3000);
    const before = fd.status('b');
    fd.eventLoopDelay(500, 3100);
    fd.eventLoopDelay(0, 3200);
    expect(fd.status('b')).toEqual(before);
  });

  it('refuses a delay that is negative or not finite', () => {
    const fd = new FailureDetector();
    expectDetectorError(() => fd.eventLoopDelay(-1, 0), 'bad-input', 'ERR_BAD_ARGUMENT');
    expectDetectorError(() => fd.eventLoopDelay(Number.NaN, 0), 'bad-input', 'ERR_BAD_ARGUMENT');
    expectDetectorError(() => fd.eventLoopDelay(Number.POSITIVE_INFINITY, 0), 'bad-input', 'ERR_BAD_ARGUMENT');
  });
});

describe('connections', () => {
  it('losing the only connection is a down with reason disconnected', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    expect(brief(fd.peerDisconnected('b', 1, 10))).toEqual(['down:b/1@10:disconnected']);
    expect(fd.tick(10_000)).toEqual([]);
  });

  it('a suspect node that loses its connection goes down once', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.tick(2000);
    expect(brief(fd.peerDisconnected('b', 1, 2100))).toEqual(['down:b/1@2100:disconnected']);
    expect(fd.tick(5000)).toEqual([]);
  });

  it('with two connections (a simultaneous connect), only the last one closing is a down', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    expect(fd.peerConnected('b', 1, 5)).toEqual([]);
    expect(fd.peerDisconnected('b', 1, 6)).toEqual([]); // the tie-break loser closes
    expect(fd.status('b')).toMatchObject({ status: 'up', connections: 1 });
    expect(brief(fd.peerDisconnected('b', 1, 7))).toEqual(['down:b/1@7:disconnected']);
  });

  it('after a timeout down, the host closing the connection emits nothing more', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.tick(3000);
    expect(fd.peerDisconnected('b', 1, 3001)).toEqual([]);
    expect(fd.status('b')).toMatchObject({ status: 'down', connections: 0 });
  });

  it('a disconnect with no matching connect is counted, not acted on', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.peerDisconnected('b', 1, 1);
    expect(fd.peerDisconnected('b', 1, 2)).toEqual([]);
    expect(fd.peerDisconnected('b', 2, 3)).toEqual([]); // an incarnation never handshaken
    expect(fd.stats.unmatchedDisconnect).toBe(2);
    expect(fd.status('b')).toMatchObject({ status: 'down', incarnation: 1, connections: 0 });
  });

  it('a heartbeat never brings a down node up; a new handshake does', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.tick(3000);
    expect(fd.heartbeatSeen('b', 1, 3100)).toEqual([]);
    expect(fd.stats.heartbeatWhileDown).toBe(1);
    expect(brief(fd.peerConnected('b', 1, 3200))).toEqual(['up:b/1@3200']);
    expect(fd.tick(4699)).toEqual([]);
    expect(brief(fd.tick(4700))).toEqual(['suspect:b/1@4700']);
  });

  it(`counts at most MAX_CONNECTIONS_PER_PEER (${MAX_CONNECTIONS_PER_PEER}) connections per node`, () => {
    const fd = new FailureDetector();
    for (let i = 0; i < MAX_CONNECTIONS_PER_PEER; i++) fd.peerConnected('b', 1, i);
    const before = fd.status('b');
    expectDetectorError(() => fd.peerConnected('b', 1, 100), 'too-many-connections', 'ERR_LIMIT');
    expect(fd.status('b')).toEqual(before);
    expect(fd.now).toBe(MAX_CONNECTIONS_PER_PEER - 1);
  });
});

describe('incarnations', () => {
  it('a handshake of a newer incarnation is a down of the old followed by an up of the new', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    expect(brief(fd.peerConnected('b', 2, 500))).toEqual(['down:b/1@500:new-incarnation', 'up:b/2@500']);
    expect(fd.status('b')).toMatchObject({ incarnation: 2, status: 'up', connections: 1 });
  });

  it('when the old incarnation is already down, the new one is only an up', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.peerDisconnected('b', 1, 10);
    expect(brief(fd.peerConnected('b', 5, 20))).toEqual(['up:b/5@20']);
  });

  it('a suspect old incarnation is downed as new-incarnation, not timeout', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.tick(2000);
    expect(brief(fd.peerConnected('b', 2, 2100))).toEqual(['down:b/1@2100:new-incarnation', 'up:b/2@2100']);
  });

  it('a heartbeat of a newer incarnation downs the old one and waits for the new handshake', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    expect(brief(fd.heartbeatSeen('b', 2, 100))).toEqual(['down:b/1@100:new-incarnation']);
    expect(fd.heartbeatSeen('b', 2, 200)).toEqual([]); // still needs the handshake
    expect(fd.peerDisconnected('b', 1, 300)).toEqual([]); // the old connection closing is stale
    expect(brief(fd.peerConnected('b', 2, 400))).toEqual(['up:b/2@400']);
    expect(fd.status('b')).toMatchObject({ incarnation: 2, connections: 1 });
  });

  it('inputs of an older incarnation are counted and ignored', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 3, 0);
    expect(fd.peerConnected('b', 2, 1)).toEqual([]);
    expect(fd.heartbeatSeen('b', 1, 2)).toEqual([]);
    expect(fd.peerDisconnected('b', 2, 3)).toEqual([]);
    expect(fd.stats.staleIncarnation).toBe(3);
    expect(fd.status('b')).toMatchObject({ incarnation: 3, status: 'up', connections: 1 });
  });

  it('the old connection closing after the new incarnation connected does not down the new one', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 0);
    fd.peerConnected('b', 2, 10);
    expect(fd.peerDisconnected('b', 1, 11)).toEqual([]);
    expect(fd.status('b')).toMatchObject({ incarnation: 2, status: 'up' });
  });
});

describe('bad input', () => {
  it('time going backwards is a typed error and changes nothing', () => {
    const fd = new FailureDetector();
    fd.peerConnected('b', 1, 1000);
    const before = fd.status('b');
    expectDetectorError(() => fd.tick(999), 'time-backwards', 'ERR_BAD_ARGUMENT');
    expectDetectorError(() => fd.heartbeatSeen('b', 1, 0), 'time-backwards', 'ERR_BAD_ARGUMENT');
    expectDetectorError(() => fd.peerConnected('c', 1, 0), 'time-backwards', 'ERR_BAD_ARGUMENT');
    expectDetectorError(() => fd.peerDisconnected('b', 1, 0), 'time-backwards', 'ERR_BAD_ARGUMENT');
    expectDetectorError(() => fd.eventLoopDelay(10, 0), 'time-backwards', 'ERR_BAD_ARGUMENT');
    expect(fd.status('b')).toEqual(before);
    expect(fd.status('c')).toBeUndefined();
    expect(fd.now).toBe(1000);
    expect(fd.tick(1000)).toEqual([]); // the same instant again is fine
  });

  it('a now that is not a finite number is a typed error', () => {
    const fd = new FailureDetector();
    expectDetectorError(() => fd.tick(Number.NaN), 'bad-input', 'ERR_BAD_ARGUMENT');
    expectDetectorError(() => fd.peerConnected('b', 1, Number.POSITIVE_INFINITY), 'bad-input', 'ERR_BAD_ARGUMENT');
    expectDetectorError(() => fd.tick('5' as unknown as number), 'bad-input', 'ERR_BAD_ARGUMENT');
    expect(fd.size).toBe(0);
  });

  it('a bad incarnation is a typed error', () => {
    const fd = new FailureDetector();
    for (const inc of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expectDetectorError(() => fd.peerConnected('b', inc, 0), 'bad-input', 'ERR_BAD_ARGUMENT');
    }
    expect(fd.size).toBe(0);
  });

  it('a bad node name is the runtime ERR_BAD_NAME error', () => {
    const fd = new FailureDetector();
    for (const name of ['', 'has space', 'x'.repeat(256), 42 as unknown as string]) {
      expect(() => fd.peerConnected(name, 1, 0)).toThrow(expect.objectContaining({ code: 'ERR_BAD_NAME' }) as Error);
      expect(() => fd.heartbeatSeen(name, 1, 0)).toThrow(expect.objectContaining({ code: 'ERR_BAD_NAME' }) as Error);
    }
    expect(fd.size).toBe(0);
  });

  it('a heartbeat or disconnect from an unknown node is counted and ignored', () => {
    const fd = new FailureDetector();
    expect(fd.heartbeatSeen('ghost', 1, 0)).toEqual([]);
    expect(fd.peerDisconnected('ghost', 1, 0)).toEqual([]);
    expect(fd.stats.unknownPeer).toBe(2);
    expect(fd.size).toBe(0);
  });
});

describe('bounds and bookkeeping', () => {
  it('refuses a new node when maxPeers live nodes are tracked, changing nothing', () => {
    const fd = new FailureDetector({ maxPeers: 2 });
    fd.peerConnected('a', 1, 0);
    fd.peerConnected('b', 1, 0);
    expectDetectorError(() => fd.peerConnected('c', 1, 5), 'too-many-peers', 'ERR_LIMIT');
    expect(fd.peers().map((p) => p.node)).toEqual(['a', 'b']);
    expect(fd.now).toBe(0);
  });

  it('makes room by evicting the node down the longest', () => {
    const fd = new FailureDetector({ maxPeers: 3 });
    fd.peerConnected('a', 1, 0);
    fd.peerConnected('b', 1, 0);
    fd.peerConnected('c', 1, 0);
    fd.peerDisconnected('b', 1, 10);
    fd.peerDisconnected('a', 1, 20);
    expect(brief(fd.peerConnected('d', 1, 30))).toEqual(['up:d/1@30']);
    expect(fd.peers().map((p) => p.node)).toEqual(['a', 'c', 'd']);
    expect(fd.stats.evicted).toBe(1);
  });

  it('the hard cap is MAX_TRACKED_PEERS', () => {
    const fd = new FailureDetector();
    for (let i = 0; i < MAX_TRACKED_PEERS; i++) fd.peerConnected(`n${i}`, 1, 0);
    expect(fd.size).toBe(MAX_TRACKED_PEERS);
    expectDetectorError(() => fd.peerConnected('one-more', 1, 0), 'too-many-peers', 'ERR_LIMIT');
  });

  it('forgets only down nodes', () => {
    const fd = new FailureDetector();
    fd.peerConnected('a', 1, 0);
    fd.peerConnected('b', 1, 0);
    fd.peerDisconnected('b', 1, 1);
    expect(fd.forget('a')).toBe(false);
    expect(fd.forget('b')).toBe(true);
    expect(fd.forget('nobody')).toBe(false);
    expect(fd.peers().map((p) => p.node)).toEqual(['a']);
    // A forgotten node is unknown again: its heartbeats are ignored until it handshakes.
    expect(fd.heartbeatSeen('b', 1, 2)).toEqual([]);
    expect(brief(fd.peerConnected('b', 1, 3))).toEqual(['up:b/1@3']);
  });

  it('nextDeadline is the earliest time a tick can emit something', () => {
    const fd = new FailureDetector();
    expect(fd.nextDeadline()).toBeUndefined();
    fd.peerConnected('a', 1, 0);
    fd.peerConnected('b', 1, 400);
    expect(fd.nextDeadline()).toBe(1500);
    fd.tick(1500);
    expect(fd.nextDeadline()).toBe(1900); // b's suspicion comes before a's down at 3000
    fd.tick(1900);
    expect(fd.nextDeadline()).toBe(3000);
    fd.tick(3000);
    expect(fd.nextDeadline()).toBe(3400);
    fd.tick(3400);
    expect(fd.nextDeadline()).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Laws over random input sequences. The model below is deliberately dumb: it only remembers, per
// node, the real time of the last sign of life and the delays reported since, and checks what the
// detector emitted against the grammar and the timing rules.

type Input =
  | { kind: 'connect'; node: number; inc: number; dt: number }
  | { kind: 'heartbeat'; node: number; inc: number; dt: number }
  | { kind: 'disconnect'; node: number; inc: number; dt: number }
  | { kind: 'delay'; ms: number; dt: number }
  | { kind: 'tick'; dt: number };

const NODES = ['a', 'b', 'c'];
const dtArb = fc.integer({ min: 0, max: 2500 });
const inputArb: fc.Arbitrary<Input> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('connect' as const),
      node: fc.nat(2),
      inc: fc.integer({ min: 1, max: 3 }),
      dt: dtArb,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('heartbeat' as const),
      node: fc.nat(2),
      inc: fc.integer({ min: 1, max: 3 }),
      dt: dtArb,
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('disconnect' as const),
      node: fc.nat(2),
      inc: fc.integer({ min: 1, max: 3 }),
      dt: dtArb,
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('delay' as const), ms: fc.integer({ min: 0, max: 4000 }), dt: dtArb }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: dtArb }), weight: 4 },
);

interface NodeModel {
  state: 'none' | 'up' | 'suspect' | 'down';
  inc: number;
  /** Real time of the last connect/heartbeat of the current incarnation that the detector accepted. */
  lastLife: number;
  /** Delays reported since lastLife. */
  delaySince: number;
}

function run(inputs: readonly Input[], options: FailureDetectorOptions = {}): string[] {
  const fd = new FailureDetector(options);
  const { suspectAfterMs, downAfterMs } = fd.config;
  const model = new Map<string, NodeModel>(
    NODES.map((n) => [n, { state: 'none', inc: -1, lastLife: 0, delaySince: 0 }]),
  );
  const trace: string[] = [];
  let now = 0;
  for (const input of inputs) {
    now += input.dt;
    let events: readonly FailureDetectorEvent[];
    switch (input.kind) {
      case 'connect':
        events = fd.peerConnected(NODES[input.node]!, input.inc, now);
        break;
      case 'heartbeat':
        events = fd.heartbeatSeen(NODES[input.node]!, input.inc, now);
        break;
      case 'disconnect':
        events = fd.peerDisconnected(NODES[input.node]!, input.inc, now);
        break;
      case 'delay':
        events = fd.eventLoopDelay(input.ms, now);
        for (const m of model.values()) m.delaySince += input.ms;
        break;
      case 'tick':
        events = fd.tick(now);
        break;
    }
    trace.push(...brief(events));
    for (const e of events) {
      const m = model.get(e.node)!;
      expect(e.at).toBe(now);
      // Incarnations never go back in a node's event stream.
      expect(e.incarnation).toBeGreaterThanOrEqual(m.inc);
      switch (e.type) {
        case 'up':
          expect(['none', 'down']).toContain(m.state);
          expect(input.kind).toBe('connect'); // only a handshake brings a node up
          m.state = 'up';
          break;
        case 'suspect':
          expect(m.state).toBe('up');
          expect(input.kind).toBe('tick');
          expect(now - m.lastLife).toBeGreaterThanOrEqual(suspectAfterMs);
          m.state = 'suspect';
          break;
        case 'unsuspect':
          expect(m.state).toBe('suspect');
          expect(['heartbeat', 'connect']).toContain(input.kind);
          m.state = 'up';
          break;
        case 'down':
          expect(['up', 'suspect']).toContain(m.state); // never two downs without an up
          expect(e.incarnation).toBe(m.inc);
          if (e.reason === 'timeout') {
            expect(input.kind).toBe('tick');
            expect(m.state).toBe('suspect'); // suspect always comes first
            expect(now - m.lastLife).toBeGreaterThanOrEqual(downAfterMs);
          } else if (e.reason === 'disconnected') {
            expect(input.kind).toBe('disconnect');
          } else {
            expect(['connect', 'heartbeat']).toContain(input.kind);
            expect((input as { inc: number }).inc).toBeGreaterThan(m.inc);
          }
          m.state = 'down';
          break;
      }
      m.inc = e.incarnation;
    }
    // Update the model's notion of the last sign of life from what the detector now reports.
    if (input.kind === 'connect' || input.kind === 'heartbeat') {
      const name = NODES[input.node]!;
      const m = model.get(name)!;
      const v = fd.status(name);
      if (v !== undefined && v.incarnation === input.inc && v.status !== 'down') {
        m.lastLife = now;
        m.delaySince = 0;
      }
      if (v !== undefined) m.inc = Math.max(m.inc, v.incarnation);
    }
    // Liveness: after a tick, no live node has been silent past downAfterMs plus the delays it
    // was credited since its last sign of life.
    if (input.kind === 'tick') {
      for (const [name, m] of model) {
        const v = fd.status(name);
        if (v !== undefined && v.status !== 'down') expect(now - m.lastLife).toBeLessThan(downAfterMs + m.delaySince);
      }
    }
    // The detector's view agrees with the model's.
    for (const [name, m] of model) {
      const v = fd.status(name);
      if (m.state === 'none') expect(v === undefined || v.status === 'down').toBe(true);
      else expect(v?.status).toBe(m.state);
    }
  }
  return trace;
}

describe('laws over random input sequences', () => {
  it('events follow the per-node grammar and the timing rules', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { maxLength: 80 }), (inputs) => {
        run(inputs);
      }),
      { numRuns: 300, seed: 0x7a11 },
    );
  });

  it('holds with tight intervals too', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { maxLength: 80 }), (inputs) => {
        run(inputs, { heartbeatIntervalMs: 10, suspectAfterMs: 400, downAfterMs: 401 });
      }),
      { numRuns: 200, seed: 0x5eed },
    );
  });

  it('is deterministic: the same inputs give the same events', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { maxLength: 60 }), (inputs) => {
        expect(run(inputs)).toEqual(run(inputs));
      }),
      { numRuns: 100, seed: 42 },
    );
  });
});
