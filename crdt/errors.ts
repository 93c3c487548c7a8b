// Typed errors of the CRDT layer (TroupeErrors with a stable code).
import { TroupeError } from '../runtime/base.js';

/** Wire input that does not have the shape or bounds of a CRDT message part. */
export class CrdtMalformedError extends TroupeError {
  readonly reason = 'malformed' as const;
  constructor(detail: string) {
    super('ERR_MALFORMED', `crdt: malformed input: ${detail}`);
  }
}

/** A local mutation that breaks an invariant (e.g. minting for an actor with a gap). */
export class CrdtInvariantError extends TroupeError {
  readonly reason = 'invariant' as const;
  constructor(detail: string) {
    super('ERR_BAD_ARGUMENT', `crdt: ${detail}`);
  }
}
