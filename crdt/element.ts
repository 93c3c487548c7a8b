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
}
