// Wire forms: deltas and chunks survive a msgpack round trip unchanged, and any malformed input
// is rejected with a typed CrdtMalformedError, never another exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KeyDelta } from '../../crdt/index.js';
import {
  ActorTable,
  CausalContext,
  CrdtMalformedError,
  OrswotMap,
  actorOf,
  decodeActors,
  decodeChunk,
  decodeContext,
  decodeDigests,
  decodeKeyDeltas,
  encodeChunk,
  encodeContext,
  encodeKeyDelta,
  keyDeltaWireSize,
  shardOf,
} from '../../crdt/index.js';
import { decode, encode } from '../../runtime/codec.js';
import { canonicalContext, canonicalMap, stringOps } from './helpers.js';

describe('crdt wire forms', () => {
  it('round-trip key deltas through msgpack, within the size estimate', () => {
    const keys = fc.constantFrom('a', 'b', 'ключ');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keys, fc.string({ maxLength: 20 }), fc.boolean(), fc.nat(3)), {
          maxLength: 40,
        }),
        (ops) => {
          const source = new OrswotMap(stringOps);
          const deltas: KeyDelta<string>[] = [];
          for (const [key, value, isAdd, node] of ops) {
            const d = isAdd ? source.add(key, value, actorOf(`n${node}`, 2)) : source.remove(key, value);
            if (d !== undefined) deltas.push(d);
          }
          const table = new ActorTable();
          const wire = deltas.map((d) => encodeKeyDelta(d, table, stringOps));
          for (let i = 0; i < deltas.length; i++) {
            expect(encode(wire[i]).length).toBeLessThanOrEqual(
              keyDeltaWireSize(deltas[i] as KeyDelta<string>, stringOps),
            );
          }
          const back = decode(encode({ a: table.list, d: wire })) as { a: unknown; d: unknown };
          const decoded = decodeKeyDeltas(back.d, decodeActors(back.a), stringOps);
          const viaWire = new OrswotMap(stringOps);
          for (const d of decoded) viaWire.applyDelta(d);
          const direct = new OrswotMap(stringOps);
          for (const d of deltas) direct.applyDelta(d);
          expect(canonicalMap(viaWire)).toBe(canonicalMap(direct));
          expect(canonicalMap(viaWire)).toBe(canonicalMap(source));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('round-trips a causal context with a cloud', () => {
    const ctx = new CausalContext();
    const a = actorOf('x', 1);
    for (const c of [1, 2, 3, 7, 9]) ctx.add(a, c);
    const table = new ActorTable();
    const back = decodeContext(decode(encode(encodeContext(ctx, table))), table.list);
    expect(canonicalContext(back)).toBe(canonicalContext(ctx));
    expect(back.cloudSize()).toBe(2);
  });

  it('rejects malformed input with CrdtMalformedError only', () => {
    const actors = [actorOf('n', 1)];
    const junk = fc.anything({ maxDepth: 3, withNullPrototype: false });
    const tupleish = fc.array(
      fc.oneof(
        fc.string(),
        fc.integer(),
        fc.constant(null),
        fc.array(fc.integer({ min: -2, max: 3 }), { maxLength: 6 }),
        fc.array(fc.string(), { maxLength: 3 }),
      ),
      { maxLength: 8 },
    );
    const decoders: ((v: unknown) => unknown)[] = [
      (v) => decodeActors(v),
      (v) => decodeKeyDeltas(v, actors, stringOps),
      (v) => decodeKeyDeltas([v], actors, stringOps),
      (v) => decodeChunk(v, actors, stringOps),
      (v) => decodeContext(v, actors),
      (v) => decodeDigests(v),
    ];
    fc.assert(
      fc.property(fc.oneof(junk, tupleish), fc.nat(decoders.length - 1), (value, which) => {
        try {
          (decoders[which] as (v: unknown) => unknown)(value);
        } catch (err) {
          expect(err).toBeInstanceOf(CrdtMalformedError);
          expect((err as CrdtMalformedError).code).toBe('ERR_MALFORMED');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects specific bad shapes', () => {
    const actors = [actorOf('n', 1)];
    const bad = (f: () => unknown): void => expect(f).toThrow(CrdtMalformedError);
    bad(() => decodeActors(['no-hash']));
    bad(() => decodeKeyDeltas([['k', ['v'], [1, 1], []]], actors, stringOps)); // unknown actor index
    bad(() => decodeKeyDeltas([['k', ['v'], [0, 0], []]], actors, stringOps)); // counter 0
    bad(() => decodeKeyDeltas([['k', ['v', 'w'], [0, 1], []]], actors, stringOps)); // values/dots mismatch
    bad(() => decodeKeyDeltas([['', [], [], []]], actors, stringOps)); // empty key
    bad(() => decodeKeyDeltas([['x'.repeat(256), [], [], []]], actors, stringOps));
    bad(() => decodeDigests([1, 2, 3]));
    const key = 'some-key';
    const wrongShard = (shardOf(key) + 1) % 64;
    bad(() => decodeChunk([wrongShard, null, null, [[], []], 0, 0, [[key, ['v'], [0, 1], []]]], actors, stringOps));
    const source = new OrswotMap(stringOps);
    source.add(key, 'v', actors[0] as string);
    const table = new ActorTable();
    const good = encodeChunk(shardOf(key), source.cutChunk(null, 1e9), table, stringOps);
    expect(decodeChunk(decode(encode(good)), table.list, stringOps).chunk.keys.get(key)?.[0]?.value).toBe('v');
  });
});
