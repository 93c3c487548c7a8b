// One backoff rule for every retry loop: exponential with equal jitter, clamped so that a long
// run of failures neither overflows (2^n) nor waits longer than `maxMs`.

export interface BackoffPolicy {
  /** Delay ceiling of the first retry (attempt 0). */
  readonly baseMs: number;
  /** No delay is ever longer than this. */
  readonly maxMs: number;
}

/** Largest exponent used: 2^30 × any sane base is past every cap, and never Infinity. */
const MAX_EXPONENT = 30;

/**
 * Delay before retry `attempt` (0-based): half the ceiling plus a random half, where the ceiling
 * is `baseMs · 2^attempt` capped at `maxMs`. Never zero, never above the cap. `random` returns
 * a float in [0, 1) (a seeded source in simulation).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  if (!(policy.baseMs > 0) || !(policy.maxMs >= policy.baseMs))
    throw new RangeError(`backoff needs 0 < baseMs <= maxMs, got ${policy.baseMs} and ${policy.maxMs}`);
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}
