// Behaviour of the eventual registry core, input by input: local API and its typed errors,
// conflicts decided by the claims alone with the loser told once by its own node, the node-down
// grace, new incarnations, malformed input, the byte-budgeted fair outbox and chunked
// anti-entropy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../crdt/index.js';
import type { RegistryMessage, RegistryOutput } from '../../registry/index.js';
import {
  BadRegistryNameError,
  EventualRegistryCore,
  NameTakenError,
  NotLocalPidError,
  NotRegisteredError,
  RegistryConfigError,
  RegistryLimitError,
  compareClaims,
} from '../../registry/index.js';
import { decode, encode } from '../../runtime/codec.js';
import { Pid } from '../../runtime/pid.js';
import { seededRandom } from '../../runtime/base.js';

const GRACE = 1000;

function core(
  node: string,
  incarnation = 1,
  extra: Partial<ConstructorParameters<typeof EventualRegistryCore>[0]> = {},
): EventualRegistryCore {
  return new EventualRegistryCore({
    node,
    incarnation,
    random: seededRandom(7),
    nodeDownGraceMs: GRACE,
    antiEntropyIntervalMs: 500,
    ...extra,
  });
}

function messagesTo(outputs: readonly RegistryOutput[], to: string): RegistryMessage[] {
  const out: RegistryMessage[] = [];
  for (const o of outputs) {
    if (o.type === 'send' && o.to === to) out.push(o.message);
    if (o.type === 'broadcast' && o.to.includes(to)) out.push(o.message);
  }
  return out;
}

function watchEvents(outputs: readonly RegistryOutput[]): string[] {
  return outputs.flatMap((o) =>
    o.type === 'watch' ? [`${o.event.kind} ${o.event.name}=${o.event.pid.toString()}`] : [],
  );
}

function lostNotices(outputs: readonly RegistryOutput[]): string[] {
  return outputs.flatMap((o) =>
    o.type === 'lost' ? [`${o.pid.toString()} lost ${o.name} to ${o.winner.toString()}`] : [],
  );
}

/** Deliver every message among `cores` (through msgpack) until quiet; returns every output seen. */
function pump(
  cores: EventualRegistryCore[],
  initial: Map<EventualRegistryCore, RegistryOutput[]>,
  maxRounds = 50,
): RegistryOutput[] {
  const seen: RegistryOutput[] = [];
  let pending = initial;
  for (let round = 0; round < maxRounds && pending.size > 0; round++) {
    const next = new Map<EventualRegistryCore, RegistryOutput[]>();
    for (const [sender, outputs] of pending) {
      seen.push(...outputs);
      for (const target of cores) {
        if (target === sender) continue;
        for (const m of messagesTo(outputs, target.node)) {
          const produced = target.receive(sender.node, decode(encode(m)));
          if (produced.length > 0) next.set(target, [...(next.get(target) ?? []), ...produced]);
        }
      }
    }
    pending = next;
  }
  return seen;
}

function connect(cores: EventualRegistryCore[], now = 0): RegistryOutput[] {
  const initial = new Map<EventualRegistryCore, RegistryOutput[]>();
  for (const a of cores)
    for (const b of cores)
      if (a !== b) initial.set(a, [...(initial.get(a) ?? []), ...a.nodeUp(b.node, b.incarnation, now)]);
  return pump(cores, initial);
}

function tickAll(cores: EventualRegistryCore[], now: number): RegistryOutput[] {
  const initial = new Map(cores.map((c) => [c, c.tick(now)] as const));
  return pump(cores, initial);
}

describe('eventual registry core: local API', () => {
  it('registers, resolves, unregisters, and emits watch events', () => {
    const a = core('a');
    const p = new Pid('a', 1, 1);
    expect(watchEvents(a.register('svc', p))).toEqual(['register svc=<a.1.1>']);
    expect(a.whereis('svc')?.equals(p)).toBe(true);
    expect(a.register('svc', p)).toEqual([]); // same pair again: no-op
    expect(() => a.register('svc', new Pid('a', 2, 1))).toThrow(NameTakenError);
    expect(watchEvents(a.unregister('svc'))).toEqual(['unregister svc=<a.1.1>']);
    expect(a.whereis('svc')).toBeUndefined();
    expect(() => a.unregister('svc')).toThrow(NotRegisteredError);
  });

  it('drops every name of an exited process, and only those', () => {
    const a = core('a');
    const p = new Pid('a', 1, 1);
    const q = new Pid('a', 2, 1);
    a.register('x', p);
    a.register('y', p);
    a.register('z', q);
    const out = a.processExited(p);
    expect(watchEvents(out).sort()).toEqual(['unregister x=<a.1.1>', 'unregister y=<a.1.1>']);
    expect([...a.view().keys()]).toEqual(['z']);
    expect(a.processExited(p)).toEqual([]);
  });

  it('refuses bad input with typed errors and changes nothing', () => {
    const a = core('a', 3, { maxNamesPerNode: 2 });
    expect(() => a.register('', new Pid('a', 1, 3))).toThrow(BadRegistryNameError);
    expect(() => a.register('x'.repeat(256), new Pid('a', 1, 3))).toThrow(BadRegistryNameError);
    expect(() => a.register(42 as unknown as string, new Pid('a', 1, 3))).toThrow(BadRegistryNameError);
    expect(() => a.register('n', new Pid('b', 1, 3))).toThrow(NotLocalPidError);
    expect(() => a.register('n', new Pid('a', 1, 2))).toThrow(NotLocalPidError);
    a.register('n1', new Pid('a', 1, 3));
    a.register('n2', new Pid('a', 1, 3));
    const err = (() => {
      try {
        a.register('n3', new Pid('a', 1, 3));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(RegistryLimitError);
    expect((err as RegistryLimitError).code).toBe('ERR_LIMIT');
    expect(a.size).toBe(2);
    expect(() => core('a', 1, { maxDeltaBatchBytes: 100 })).toThrow(RegistryConfigError);
    expect(() => core('a', 1, { antiEntropyIntervalMs: 0 })).toThrow(RegistryConfigError);
  });
});

describe('eventual registry core: conflicts', () => {
  it('picks the same winner whatever the delivery order; the loser is told once, by its own node', () => {
    const name = 'leader';
    const pa = new Pid('a', 1, 1);
    const pb = new Pid('b', 1, 1);
    const expected = compareClaims(name, pa, pb) < 0 ? pa : pb;
    const loser = expected === pa ? pb : pa;
    for (const order of [0, 1]) {
      const a = core('a');
      const b = core('b');
      connect([a, b]);
      // Both register before either hears of the other; the deltas cross in either order.
      a.register(name, pa);
      b.register(name, pb);
      const fromA = messagesTo(a.tick(10), 'b');
      const fromB = messagesTo(b.tick(10), 'a');
      const outputs: RegistryOutput[] = [];
      const deliver = (to: EventualRegistryCore, from: string, msgs: RegistryMessage[]): void => {
        for (const m of msgs) outputs.push(...to.receive(from, decode(encode(m))));
      };
      if (order === 0) {
        deliver(b, 'a', fromA);
        deliver(a, 'b', fromB);
      } else {
        deliver(a, 'b', fromB);
        deliver(b, 'a', fromA);
      }
      outputs.push(...tickAll([a, b], 20), ...tickAll([a, b], 30));
      const all = [...outputs, ...tickAll([a, b], 1000), ...tickAll([a, b], 2000)];
      expect(a.whereis(name)?.equals(expected)).toBe(true);
      expect(b.whereis(name)?.equals(expected)).toBe(true);
      expect(lostNotices(all)).toEqual([`${loser.toString()} lost ${name} to ${expected.toString()}`]);
      expect(a.claims(name)).toHaveLength(1);
      expect(b.claims(name)).toHaveLength(1);
      const loserCore = loser.node === 'a' ? a : b;
      expect(loserCore.ownNames().has(name)).toBe(false);
      expect(loserCore.counters.conflictsLost).toBe(1);
    }
  });

  it('orders claims totally, by the claims alone', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 10 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat(50), fc.nat(3)), { minLength: 2, maxLength: 6 }),
        (name, raw) => {
          const pids = raw.map(([n, id, inc]) => new Pid(n, id, inc));
          for (const x of pids) {
            expect(compareClaims(name, x, x)).toBe(0);
            for (const y of pids) {
              expect(Math.sign(compareClaims(name, x, y)) + Math.sign(compareClaims(name, y, x))).toBe(0);
              if (compareClaims(name, x, y) === 0) expect(x.equals(y)).toBe(true);
              for (const z of pids)
                if (compareClaims(name, x, y) < 0 && compareClaims(name, y, z) < 0)
                  expect(compareClaims(name, x, z)).toBeLessThan(0);
            }
          }
        },
      ),
    );
  });
});

describe('eventual registry core: node lifecycle', () => {
  function twoNodes(): { a: EventualRegistryCore; b: EventualRegistryCore; pb: Pid } {
    const a = core('a');
    const b = core('b');
    connect([a, b]);
    const pb = new Pid('b', 5, 1);
    b.register('svc', pb);
    tickAll([a, b], 1);
    expect(a.whereis('svc')?.equals(pb)).toBe(true);
    return { a, b, pb };
  }

  it("drops a down node's names only after the grace", () => {
    const { a } = twoNodes();
    a.nodeDown('b', 100);
    expect(watchEvents(a.tick(100 + GRACE - 1))).toEqual([]);
    expect(a.whereis('svc')).toBeDefined();
    expect(watchEvents(a.tick(100 + GRACE))).toEqual(['unregister svc=<b.5.1>']);
    expect(a.whereis('svc')).toBeUndefined();
    expect(a.counters.reapedClaims).toBe(1);
  });

  it('keeps the names of a node back within the grace, without events', () => {
    const { a } = twoNodes();
    a.nodeDown('b', 100);
    a.tick(500);
    a.nodeUp('b', 1, 600);
    expect(watchEvents(a.tick(100 + GRACE + 10))).toEqual([]);
    expect(a.whereis('svc')).toBeDefined();
  });

  it("drops a restarted node's old names at once and never lets a late delta bring them back", () => {
    const a = core('a');
    const b = core('b');
    connect([a, b]);
    const pb = new Pid('b', 5, 1);
    const late = b.register('svc', pb);
    const lateDelta = messagesTo(b.tick(1), 'a');
    expect(lateDelta).toHaveLength(1);
    void late;
    a.receive('b', decode(encode(lateDelta[0])));
    expect(a.whereis('svc')).toBeDefined();
    // b restarts as incarnation 2: membership reports down then up with the new incarnation.
    a.nodeDown('b', 10);
    a.nodeUp('b', 2, 20);
    expect(watchEvents(a.tick(30))).toEqual(['unregister svc=<b.5.1>']);
    // The old incarnation's delta arrives late (duplicated in flight): no resurrection.
    const out = a.receive('b', decode(encode(lateDelta[0])));
    expect(watchEvents(out)).toEqual([]);
    expect(a.whereis('svc')).toBeUndefined();
  });

  it('learns a newer incarnation from a claim and drops the older one', () => {
    const a = core('a');
    const c = core('c');
    const b1 = core('b', 1);
    connect([a, b1, c]);
    b1.register('old', new Pid('b', 1, 1));
    tickAll([a, b1, c], 1);
    expect(a.whereis('old')).toBeDefined();
    const b2 = core('b', 2);
    b2.nodeUp('a', 1, 2);
    b2.register('new', new Pid('b', 1, 2));
    for (const m of messagesTo(b2.tick(3), 'a')) a.receive('b', decode(encode(m)));
    a.tick(4);
    expect(a.whereis('new')?.incarnation).toBe(2);
    expect(a.whereis('old')).toBeUndefined();
  });

  it('re-adds a live claim that another node dropped after its grace (owner unchanged everywhere)', () => {
    const { a, b, pb } = twoNodes();
    a.nodeDown('b', 100);
    a.tick(100 + GRACE);
    expect(a.whereis('svc')).toBeUndefined();
    // The partition heals (same incarnation): anti-entropy brings a's removal to b, b re-asserts.
    const initial = new Map([
      [a, a.nodeUp('b', 1, 2000)],
      [b, b.nodeUp('a', 1, 2000)],
    ]);
    pump([a, b], initial);
    tickAll([a, b], 2010);
    expect(b.counters.reasserted).toBe(1);
    expect(a.whereis('svc')?.equals(pb)).toBe(true);
    expect(b.whereis('svc')?.equals(pb)).toBe(true);
    expect(a.digests()).toEqual(b.digests());
  });
});

describe('eventual registry core: untrusted input', () => {
  it('counts and drops malformed messages, never throws, never changes state', () => {
    const a = core('a');
    a.register('keep', new Pid('a', 1, 1));
    const before = a.digests().join();
    const shapes = fc.oneof(
      fc.anything({ maxDepth: 4 }),
      fc.record({
        t: fc.constantFrom('delta', 'ae-digest', 'ae-shards', 'nope'),
        a: fc.anything({ maxDepth: 2 }),
        d: fc.anything({ maxDepth: 3 }),
        g: fc.anything({ maxDepth: 1 }),
        h: fc.integer(),
        c: fc.anything({ maxDepth: 3 }),
        p: fc.anything({ maxDepth: 2 }),
        n: fc.anything({ maxDepth: 2 }),
      }),
    );
    let dropped = 0;
    fc.assert(
      fc.property(shapes, (msg) => {
        const out = a.receive('b', msg);
        if (a.counters.malformedDropped > dropped) {
          dropped = a.counters.malformedDropped;
          expect(out).toEqual([]);
        }
      }),
      { numRuns: 1000 },
    );
    expect(a.counters.malformedDropped).toBeGreaterThan(900);
    expect(a.digests().join()).toBe(before);
  });

  it('survives a second process running as the same node incarnation (no crash, unique dots)', () => {
    const a = core('a');
    const twin = core('a');
    twin.nodeUp('x', 1, 0);
    const sameShard: string[] = [];
    for (let i = 0; sameShard.length < 3; i++) if (shardOf(`s${i}`) === 7) sameShard.push(`s${i}`);
    const [first, second, mine] = sameShard as [string, string, string];
    twin.register(first, new Pid('a', 100, 1));
    twin.tick(1); // this delta (dot 1) never reaches a
    twin.register(second, new Pid('a', 101, 1));
    const [late] = messagesTo(twin.tick(2), 'x');
    a.receive('a', decode(encode(late))); // dot 2 arrives above a gap in a's own actor
    expect(a.cloudSize()).toBe(1);
    a.nodeUp('x', 1, 0);
    expect(() => a.register(mine, new Pid('a', 1, 1))).not.toThrow();
    expect(a.whereis(mine)).toBeDefined();
    // The new dot is minted above every dot of this actor seen so far.
    const [delta] = messagesTo(a.tick(3), 'x');
    expect(delta?.t === 'delta' ? delta.d.find((d) => d[0] === mine)?.[2][1] : undefined).toBe(3);
    expect(a.whereis(second)).toBeDefined();
  });

  it("rejects a delta that carries another node's claims or dots", () => {
    const a = core('a');
    const c = core('c');
    a.nodeUp('c', 1, 0);
    c.nodeUp('a', 1, 0);
    c.register('x', new Pid('c', 1, 1));
    const [msg] = messagesTo(c.tick(1), 'a');
    a.receive('b', decode(encode(msg))); // relayed under another sender's name
    expect(a.counters.malformedDropped).toBe(1);
    expect(a.whereis('x')).toBeUndefined();
    a.receive('c', decode(encode(msg)));
    expect(a.whereis('x')).toBeDefined();
  });
});

describe('eventual registry core: outbox and anti-entropy budgets', () => {
  it('sends every change within the byte budget per round; what does not fit waits for the next', () => {
    const budget = 32 * 1024;
    const a = core('a', 1, { maxDeltaBatchBytes: budget });
    const b = core('b');
    a.nodeUp('b', 1, 0);
    b.nodeUp('a', 1, 0);
    for (let i = 0; i < 3000; i++) a.register(`name-${i}`, new Pid('a', i + 1, 1));
    let rounds = 0;
    while (a.outboxSize > 0) {
      rounds++;
      const msgs = messagesTo(a.tick(rounds), 'b').filter((m) => m.t === 'delta');
      expect(msgs).toHaveLength(1);
      const bytes = encode(msgs[0]);
      expect(bytes.length).toBeLessThanOrEqual(budget);
      b.receive('a', decode(bytes));
    }
    expect(rounds).toBeGreaterThan(1);
    expect(b.size).toBe(3000);
    expect(a.counters.outboxDropped).toBe(0);
    expect(a.counters.deltaNamesSent).toBe(3000);
  });

  it('drains shards fairly: a burst on one shard does not delay another shard', () => {
    const a = core('a', 1, { maxDeltaBatchBytes: 32 * 1024 });
    a.nodeUp('b', 1, 0);
    const hot: string[] = [];
    for (let i = 0; hot.length < 2000; i++) if (shardOf(`h${i}`) === 3) hot.push(`h${i}`);
    hot.forEach((n, i) => a.register(n, new Pid('a', i + 1, 1)));
    let cold = 'c0';
    for (let i = 0; shardOf(cold) === 3; i++) cold = `c${i}`;
    a.register(cold, new Pid('a', 9999, 1));
    const [first] = messagesTo(a.tick(1), 'b');
    expect(first?.t).toBe('delta');
    const names = first?.t === 'delta' ? first.d.map((d) => d[0]) : [];
    expect(names).toContain(cold);
    expect(names.length).toBeLessThan(2001);
  });

  it('repairs lost deltas by chunked anti-entropy within the message budget', () => {
    const budget = 32 * 1024;
    // aeQuietMs 0: the exchange right after the (lost) deltas is not left to them.
    const a = core('a', 1, { maxAeMessageBytes: budget, aeQuietMs: 0 });
    const b = core('b', 1, { maxAeMessageBytes: budget, aeQuietMs: 0 });
    a.nodeUp('b', 1, 0);
    b.nodeUp('a', 1, 0);
    for (let i = 0; i < 4000; i++) a.register(`name-${i}`, new Pid('a', i + 1, 1));
    a.tick(1); // every delta is lost
    expect(b.size).toBe(0);
    // One exchange, started by b, every message measured on the wire.
    let inFlight: { to: EventualRegistryCore; from: string; msg: RegistryMessage }[] = messagesTo(
      b.nodeUp('a', 1, 10),
      'a',
    ).map((msg) => ({ to: a, from: 'b', msg }));
    let messages = 0;
    while (inFlight.length > 0) {
      const next: typeof inFlight = [];
      for (const { to, from, msg } of inFlight) {
        const bytes = encode(msg);
        expect(bytes.length).toBeLessThanOrEqual(budget);
        messages++;
        const out = to.receive(from, decode(bytes));
        const peer = to === a ? b : a;
        for (const m of messagesTo(out, peer.node)) next.push({ to: peer, from: to.node, msg: m });
      }
      inFlight = next;
    }
    expect(messages).toBeGreaterThan(3);
    expect(b.size).toBe(4000);
    expect(b.digests()).toEqual(a.digests());
    expect(b.counters.aeRepairs).toBe(4000);
  });
});
