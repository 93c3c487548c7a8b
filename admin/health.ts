// /livez and /readyz. A timer samples the event loop every LOOP_SAMPLE_MS (how late it fired is
// the loop's lag) and, at the same time, what readiness compares against later: the Raft host's
// turn count (a host that stopped turning is wedged) and each group's commit index (this node is
// ready once it has applied what was committed when it last looked).
import { performance } from 'node:perf_hooks';
import type { Cluster } from '../system/index.js';
import { optional } from './views.js';
import { LOOP_SAMPLE_MS, MAX_LOOP_LAG_MS } from './limits.js';

export interface HealthAnswer {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail: string }>>;
}

/** Which members must be up for /readyz: a count including this node, or names. */
export type ExpectedMembers = number | readonly string[];

export class HealthSampler {
  #timer: NodeJS.Timeout | null = null;
  #expectedAt = 0;
  #lastSampleAt = performance.now();
  #lagMs = 0;
  /** The Raft host's turns at each of the last samples within MAX_LOOP_LAG_MS (oldest first). */
  #turns: { at: number; turns: number }[] = [];
  /** Each group's commit index at the previous sample. */
  #seenCommit = new Map<string, number>();

  constructor(
    private readonly cluster: Cluster,
    private readonly expected: ExpectedMembers,
  ) {}

  start(): void {
    this.#sample();
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #sample(): void {
    const now = performance.now();
    if (this.#expectedAt !== 0) this.#lagMs = Math.max(0, now - this.#expectedAt);
    this.#lastSampleAt = now;
    const raft = optional(() => this.cluster.raft);
    if (raft !== null) {
      this.#turns.push({ at: now, turns: raft.counters.turns });
      while (this.#turns.length > 1 && now - this.#turns[0]!.at > MAX_LOOP_LAG_MS) this.#turns.shift();
      for (const [id, s] of Object.entries(raft.statusAll())) this.#seenCommit.set(id, s.commit);
    }
    this.#expectedAt = now + LOOP_SAMPLE_MS;
    this.#timer = setTimeout(() => this.#sample(), LOOP_SAMPLE_MS);
    this.#timer.unref();
  }

  livez(): HealthAnswer {
    const now = performance.now();
    const sinceSample = now - this.#lastSampleAt;
    const checks: Record<string, { ok: boolean; detail: string }> = {
      eventLoop: {
        ok: this.#lagMs < MAX_LOOP_LAG_MS && sinceSample < MAX_LOOP_LAG_MS + LOOP_SAMPLE_MS,
        detail: `lag ${this.#lagMs.toFixed(1)} ms (bound ${MAX_LOOP_LAG_MS}), sampled ${sinceSample.toFixed(0)} ms ago`,
      },
    };
    const raft = optional(() => this.cluster.raft);
    if (raft !== null && raft.groupIds().length > 0 && this.#turns.length > 1) {
      const first = this.#turns[0]!;
      const last = this.#turns[this.#turns.length - 1]!;
      const turning = last.turns > first.turns || last.at - first.at < LOOP_SAMPLE_MS;
      checks['raft'] = {
        ok: turning,
        detail: `${last.turns - first.turns} turns in ${(last.at - first.at).toFixed(0)} ms`,
      };
    }
    if (this.cluster.stopped) checks['cluster'] = { ok: false, detail: 'stopping' };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  readyz(): HealthAnswer {
    const checks: Record<string, { ok: boolean; detail: string }> = {};
    const up = this.cluster.upNodes();
    const missing =
      typeof this.expected === 'number'
        ? up.length >= this.expected
          ? []
          : [`${this.expected - up.length} more node(s)`]
        : this.expected.filter((n) => !up.includes(n));
    checks['members'] = {
      ok: missing.length === 0,
      detail:
        missing.length === 0 ? `up: ${up.join(', ')}` : `waiting for ${missing.join(', ')} (up: ${up.join(', ')})`,
    };
    const raft = optional(() => this.cluster.raft);
    if (raft !== null)
      for (const [id, s] of Object.entries(raft.statusAll())) {
        const seen = this.#seenCommit.get(id) ?? 0;
        const problems = [
          ...(s.leader === null ? ['no leader'] : []),
          ...(s.tenantApplied < seen ? [`applied ${s.tenantApplied} of the commit ${seen} seen`] : []),
        ];
        checks[`raft:${id}`] = {
          ok: problems.length === 0,
          detail: problems.length === 0 ? `leader ${s.leader}, applied ${s.tenantApplied}` : problems.join('; '),
        };
      }
    if (this.cluster.stopped) checks['cluster'] = { ok: false, detail: 'stopping' };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }
}
