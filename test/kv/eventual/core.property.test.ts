// The eventual space's pure core under fast-check: its state join is a join (commutative,
// associative, idempotent), the conflict rule shows the same value on every replica whatever the
// delivery order, and a delete is never undone by an older message or state (no resurrection).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../../runtime/index.js';
import type { EventualKvCore } from '../../../kv/index.js';
import { joinState, messagesOf, replica, viewOf, type Envelope } from './replicas.js';

const NODES = ['a', 'b', 'c'] as const;
const key = fc.constantFrom('k1', 'k2', 'k3', 'p/x', 'p/y');
const op = fc.oneof(
  fc.record({ t: fc.constant('put' as const), r: fc.nat(2), key, value: fc.string({ maxLength: 4 }), dt: fc.nat(3) }),
  fc.record({ t: fc.constant('del' as const), r: fc.nat(2), key }),
  fc.record({ t: fc.constant('delp' as const), r: fc.nat(2) }),
  // Deliver some of the messages in flight (gossip of the replicas' outboxes), in a random order.
  fc.record({ t: fc.constant('flush' as const), r: fc.nat(2), drop: fc.boolean() }),
);

/** Runs a script on three replicas; returns them and every message ever sent (for replays). */
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function run(script: readonly Op[]): { cores: EventualKvCore[]; sent: Envelope[] } {
  const cores = NODES.map((n, i) => replica(n, i + 1));
  const sent: Envelope[] = [];
  let now = 1_000;
  for (const o of script) {
    const core = cores[o.r] as EventualKvCore;
    if (o.t === 'put') core.put(o.key, o.value, (now += o.dt));
    else if (o.t === 'del') core.delete(o.key);
    else if (o.t === 'delp') core.delete({ prefix: 'p/' });
    else {
      const peers = NODES.filter((_, i) => i !== o.r);
      const msgs = messagesOf(NODES[o.r] as string, core.flush(peers));
      sent.push(...msgs);
      if (!o.drop) for (const m of msgs) deliver(cores, m);
    }
  }
  return { cores, sent };
}

function deliver(cores: readonly EventualKvCore[], m: Envelope): void {
  const to = cores[NODES.indexOf(m.to as (typeof NODES)[number])] as EventualKvCore;
  to.receive(m.from, decode(encode(m.message)));
}

/** A fresh replica holding the join of `parts`, in that order. */
function joined(...parts: EventualKvCore[]): EventualKvCore {
  const x = replica('x', 9);
  for (const p of parts) joinState(x, p);
  return x;
}

const script = fc.array(op, { maxLength: 40 });

describe('eventual space core (fast-check)', () => {
  it('the state join is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(script, (s) => {
        const [a, b, c] = run(s).cores as [EventualKvCore, EventualKvCore, EventualKvCore];
        expect(viewOf(joined(a, b))).toEqual(viewOf(joined(b, a)));
        const left = joined(a, b);
        joinState(left, c);
        const bc = joined(b, c);
        const right = joined(a);
        joinState(right, bc);
        expect(viewOf(left)).toEqual(viewOf(right));
        const once = joined(a);
        const twice = joined(a);
        joinState(twice, a);
        expect(viewOf(twice)).toEqual(viewOf(once));
        expect(viewOf(once).keys).toEqual(viewOf(a).keys);
      }),
      { numRuns: 150 },
    );
  });

  it('every replica shows the same value for a key whatever order the writes arrive in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ r: fc.nat(2), key, value: fc.string({ maxLength: 3 }), now: fc.nat(5) }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        (writes, seeds) => {
          // Concurrent writes (nobody has seen anyone), each replica's own flushed as one delta.
          const cores = NODES.map((n, i) => replica(n, i + 1));
          for (const w of writes) (cores[w.r] as EventualKvCore).put(w.key, w.value, 1_000 + w.now);
          const msgs = cores.flatMap((core, i) =>
            messagesOf(NODES[i] as string, core.flush(NODES.filter((_, j) => j !== i))),
          );
          for (const [i, core] of cores.entries()) {
            const mine = msgs.filter((m) => m.to === NODES[i]);
            // A seeded shuffle, with one message delivered twice.
            const order = [...mine, ...mine.slice(0, 1)].sort(
              (x, y) => hash(x, seeds[i] as number) - hash(y, seeds[i] as number),
            );
            for (const m of order) core.receive(m.from, decode(encode(m.message)));
          }
          const [a, b, c] = cores.map((core) => viewOf(core).keys);
          expect(b).toEqual(a);
          expect(c).toEqual(a);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a delete seen everywhere is never undone by replaying older messages or states', () => {
    fc.assert(
      fc.property(script, fc.nat(), (s, seed) => {
        const { cores, sent } = run(s);
        // Snapshots of old states, to replay after the delete.
        const old = cores.map((c) => joined(c));
        // Everyone converges, then one replica deletes every key and everyone converges again.
        for (const x of cores) for (const y of cores) joinState(x, y);
        const [a] = cores as [EventualKvCore];
        a.delete({ prefix: '' });
        for (const x of cores) for (const y of cores) joinState(x, y);
        for (const c of cores) expect(c.size).toBe(0);
        const replay = [...sent].sort((x, y) => hash(x, seed) - hash(y, seed));
        for (const m of replay) deliver(cores, m);
        for (const c of cores) for (const o of old) joinState(c, o);
        for (const c of cores) {
          expect(c.size).toBe(0);
          // The delete left no per-key record: a context of one counter per actor and shard.
          for (const shard of c.state.shards) expect(shard.ctx.cloudSize()).toBe(0);
        }
      }),
      { numRuns: 150 },
    );
  });
});

/** A stable pseudo-random rank of an envelope (its bytes and a seed). */
function hash(m: Envelope, seed: number): number {
  let h = seed >>> 0;
  for (const byte of encode([m.from, m.to, m.message])) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}
