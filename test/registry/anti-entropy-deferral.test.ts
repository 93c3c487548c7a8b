// Speed without losing repair: anti-entropy leaves a shard alone while deltas still change it
// (shipping it whole would only repeat them), starts no round while our own outbox still
// drains, and never waits longer than MAX_AE_DEFER_MS; a host's pre-encoded message (one
// encoding per broadcast) is read like a decoded one, and bad bytes are counted, not thrown.
import { describe, expect, it } from 'vitest';
import {
  AE_QUIET_MS,
  EventualRegistryCore,
  MAX_AE_DEFER_MS,
  type RegistryMessage,
  type RegistryOutput,
} from '../../registry/index.js';
import { Pid, encode, seededRandom } from '../../runtime/index.js';
import { SHARD_COUNT, shardOf } from '../../crdt/index.js';

const replica = (node: string): EventualRegistryCore =>
  new EventualRegistryCore({ node, incarnation: 1, random: seededRandom(node.charCodeAt(0)) });

const sent = (outputs: readonly RegistryOutput[], to: string): RegistryMessage[] =>
  outputs.flatMap((o) =>
    (o.type === 'send' && o.to === to) || (o.type === 'broadcast' && o.to.includes(to)) ? [o.message] : [],
  );

/** b lost every delta of a's names: a's shards differ, and a is the responder of b's digest. */
function lostDeltas(): { a: EventualRegistryCore; b: EventualRegistryCore } {
  const a = replica('a');
  const b = replica('b');
  a.nodeUp('b', 1, 0);
  b.nodeUp('a', 1, 0);
  for (let i = 0; i < 200; i++) a.register(`svc-${i}`, new Pid('a', i + 1, 1));
  a.tick(1); // the broadcast is lost
  return { a, b };
}

const digestOf = (b: EventualRegistryCore): RegistryMessage => ({ t: 'ae-digest', g: b.digests() });

describe('anti-entropy deferral', () => {
  it('a shard changed within AE_QUIET_MS is not shipped; once quiet it is, and the replicas converge', () => {
    const { a, b } = lostDeltas();
    expect(sent(a.receive('b', digestOf(b)), 'b')).toEqual([]);
    expect(a.counters.aeShardsDeferred).toBeGreaterThan(0);
    a.tick(1 + AE_QUIET_MS);
    const reply = sent(a.receive('b', digestOf(b)), 'b');
    expect(reply.map((m) => m.t)).toEqual(['ae-shards']);
    for (const m of reply) b.receive('a', m);
    expect(b.size).toBe(200);
  });

  it('a shard that keeps changing is shipped anyway after MAX_AE_DEFER_MS', () => {
    const { a, b } = lostDeltas();
    let now = 1;
    let shipped = false;
    let n = 0;
    while (now <= MAX_AE_DEFER_MS + 1_000 && !shipped) {
      now += 100;
      // Every shard busy, forever: a change in each of them every 100 ms.
      const busy = new Set<number>();
      while (busy.size < SHARD_COUNT) {
        const name = `churn-${n++}`;
        busy.add(shardOf(name));
        a.register(name, new Pid('a', 10_000 + n, 1));
      }
      a.tick(now);
      shipped = sent(a.receive('b', digestOf(b)), 'b').length > 0;
    }
    expect(shipped).toBe(true);
    expect(now).toBeGreaterThanOrEqual(MAX_AE_DEFER_MS);
  });

  it('starts no round while its own outbox still drains (those deltas are what the peer lacks)', () => {
    const a = new EventualRegistryCore({
      node: 'a',
      incarnation: 1,
      random: seededRandom(1),
      antiEntropyIntervalMs: 100,
      maxDeltaBatchBytes: 4096,
    });
    a.nodeUp('b', 1, 0);
    for (let i = 0; i < 5_000; i++) a.register(`bulk-${i}`, new Pid('a', i + 1, 1));
    let rounds = 0;
    let now = 0;
    while (a.outboxSize > 0) {
      now += 10;
      rounds += a.tick(now).filter((o) => o.type === 'send' && o.message.t === 'ae-digest').length;
    }
    expect(now).toBeGreaterThan(300); // several intervals passed while it drained
    expect(rounds).toBe(0);
    // Drained: the round that waited starts at the next tick.
    rounds += a.tick(now + 10).filter((o) => o.type === 'send' && o.message.t === 'ae-digest').length;
    expect(rounds).toBe(1);
  });
});

describe('messages as bytes', () => {
  it('reads a message encoded once by the host like the decoded one, and counts bad bytes', () => {
    const a = replica('a');
    const b = replica('b');
    a.nodeUp('b', 1, 0);
    b.nodeUp('a', 1, 0);
    a.register('svc', new Pid('a', 1, 1));
    const [delta] = sent(a.tick(1), 'b');
    b.receive('a', encode(delta));
    expect(b.whereis('svc')?.toString()).toBe('<a.1.1>');
    expect(() => b.receive('a', Buffer.from([0xc1, 0xff, 0x00]))).not.toThrow();
    expect(b.counters.malformedDropped).toBe(1);
  });
});

describe('watch events only when someone watches', () => {
  it('with watchEvents off an input yields no watch output; on again, changes are watched from then', () => {
    const a = replica('a');
    a.watchEvents = false;
    expect(a.register('x', new Pid('a', 1, 1)).filter((o) => o.type === 'watch')).toEqual([]);
    a.watchEvents = true;
    const out = a.register('y', new Pid('a', 2, 1)).filter((o) => o.type === 'watch');
    expect(out.map((o) => (o.type === 'watch' ? `${o.event.kind} ${o.event.name}` : ''))).toEqual(['register y']);
    expect(a.whereis('x')?.toString()).toBe('<a.1.1>');
  });
});
