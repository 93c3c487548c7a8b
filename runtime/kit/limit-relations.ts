// Relationships between limits of different layers (a pg message must fit an internode frame, a
// resync must fit an empty class queue). They are checked when a subsystem starts, against the
// limits actually in force, so a shrunk or raised limit cannot silently break another layer.
import { TroupeError } from '../errors.js';

/** A limit with the name an operator would look for (`pg maxSyncBytes`, `internode pg class bytes`). */
export interface NamedLimit {
  readonly name: string;
  readonly value: number;
}

/** Two limits that do not fit together; `limits` names both, `values` gives what they were. */
export class LimitConflictError extends TroupeError {
  readonly limits: readonly [string, string];
  readonly values: readonly [number, number];
  constructor(small: NamedLimit, large: NamedLimit, relation: '<' | '<=') {
    super(
      'ERR_BAD_CONFIG',
      `${small.name} (${small.value}) must be ${relation === '<' ? 'below' : 'at most'} ${large.name} (${large.value})`,
    );
    this.limits = [small.name, large.name];
    this.values = [small.value, large.value];
  }
}

/** Throws LimitConflictError (ERR_BAD_CONFIG) unless `small` < `large` (or ≤ with `orEqual`). */
export function assertLimitBelow(small: NamedLimit, large: NamedLimit, opts: { orEqual?: boolean } = {}): void {
  const fits = opts.orEqual === true ? small.value <= large.value : small.value < large.value;
  if (!fits) throw new LimitConflictError(small, large, opts.orEqual === true ? '<=' : '<');
}
