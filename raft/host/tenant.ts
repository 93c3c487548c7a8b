// A tenant is the state machine of one Raft group: the KV store, the consistent registry, or a
// user's own. The host applies committed commands to it in log order, on every replica.

export interface Tenant<Result = unknown> {
  /**
   * Apply a committed command. Must be deterministic (same commands, same results, on every
   * node); the result goes back to whoever proposed the command (msgpack-encodable when it
   * crosses nodes). Errors of the command belong in the result, not in a throw.
   */
  apply(command: Uint8Array, index: number): Result | Promise<Result>;
  /** An image of the whole state after the last applied command. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replace the whole state with an image taken by snapshot() (on this node or another). */
  restore(image: Uint8Array, index: number): void | Promise<void>;
}
