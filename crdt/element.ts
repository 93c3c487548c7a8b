// What the CRDT needs to know about the values it stores. Values are compared, hashed and
// decoded through this, so the sets stay generic (the registry stores Pids).

export interface ElementOps<E> {
  equals(a: E, b: E): boolean;
  /** A hash stable across processes and runs, chained from `seed` (see hash.ts). */
  hash(value: E, seed: number): number;
  /** An upper bound of the value's msgpack size in bytes (used for byte budgets). */
  wireSize(value: E): number;
  /** Decode and validate a value from the wire; throws a TroupeError when malformed. */
  fromWire(value: unknown): E;
  /** The msgpack-encodable form of a value. */
  toWire(value: E): unknown;
  /**
   * Optional: the actor that always mints this value's dots (e.g. a claim's own node
   * incarnation). When given, entries whose actor matches are stored without an actor field,
   * which saves memory per entry.
   */
  actorOf?(value: E): string;
  /**
   * Optional, with actorOf: build the stored form of an entry (value + counter, actor derived),
   * e.g. one object that is both the value and the entry.
   */
  compactEntry?(value: E, counter: number): { readonly value: E; readonly actor: string; readonly counter: number };
}
