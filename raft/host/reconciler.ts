// The voter reconciler: a pure core, run on the leader, that keeps a group's configuration in
// line with the cluster's membership. Voters stay on the odd ladder 1, 3, 5 … (capped by
// `maxVoters`), every other live node is a learner, a node down past a grace period leaves the
// configuration, and the leader is removed only after it handed leadership over.
//
// Input: what the leader knows now. Output: at most one change (or why there is none). The
// host applies the change, waits until it is committed, and asks again: the same input always
// gives the same answer, and an input that did not change after the answer was applied gives
// `none` (no churn). Choices are deterministic: by node name, so every leader would pick alike.
import { TroupeError } from '../../runtime/base.js';

/** A node as internode membership sees it. `since` is when it entered its current state. */
export interface ReconcileNode {
  readonly id: string;
  readonly up: boolean;
  readonly since: number;
  /** The operator (or the node itself, stopping) asked for it to leave the configuration. */
  readonly leaving?: boolean;
}

/** How a member's log compares with the leader's (leader's view; learners and voters). */
export interface ReconcileProgress {
  readonly match: number;
  /** Close enough to the leader's commit index to be promoted without stalling commits. */
  readonly caughtUp: boolean;
}

export interface ReconcileConfig {
  readonly voters: readonly string[];
  readonly learners: readonly string[];
}

export interface ReconcileOptions {
  /** Most voters; an odd number >= 1. */
  readonly maxVoters: number;
  /** How long a node must be down before it is removed (ms, same clock as `now`). */
  readonly graceMs: number;
}

export interface ReconcileInput {
  readonly now: number;
  /** The leader running the reconciler (itself up, whatever `nodes` says). */
  readonly leader: string;
  /**
   * Every node the host knows of. A member of the configuration missing here counts as up,
   * so a node the host has not heard about yet is never removed on that ground alone.
   */
  readonly nodes: readonly ReconcileNode[];
  readonly progress: Readonly<Record<string, ReconcileProgress>>;
  readonly config: ReconcileConfig;
  /** A configuration change is appended and not yet committed (or a transfer runs). */
  readonly changeInFlight: boolean;
  readonly options: ReconcileOptions;
}

export type ReconcileDecision =
  | { readonly type: 'none'; readonly reason: 'inFlight' | 'notVoter' | 'waiting' | 'stable' }
  | { readonly type: 'addLearner'; readonly id: string; readonly reason: 'joined' }
  | { readonly type: 'addVoter'; readonly id: string; readonly reason: 'promote' }
  | { readonly type: 'removeNode'; readonly id: string; readonly reason: 'down' | 'demote' | 'leaving' }
  | { readonly type: 'transferLeadership'; readonly to: string; readonly reason: 'leaderLeaving' };

/** Checks reconciler options; throws TroupeError ERR_BAD_CONFIG when they are unusable. */
export function checkReconcileOptions(options: ReconcileOptions): void {
  const { maxVoters, graceMs } = options;
  if (!Number.isSafeInteger(maxVoters) || maxVoters < 1 || maxVoters % 2 === 0)
    throw new TroupeError('ERR_BAD_CONFIG', `raft maxVoters must be an odd integer >= 1, got ${String(maxVoters)}`);
  if (!(graceMs >= 0) || !Number.isFinite(graceMs))
    throw new TroupeError('ERR_BAD_CONFIG', `raft voter grace must be a finite number >= 0 ms, got ${String(graceMs)}`);
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The one change that moves the configuration toward the target, or `none`. */
export function reconcile(input: ReconcileInput): ReconcileDecision {
  const { config, leader, now, options } = input;
  if (input.changeInFlight) return { type: 'none', reason: 'inFlight' };
  if (!config.voters.includes(leader)) return { type: 'none', reason: 'notVoter' };

  const views = new Map<string, ReconcileNode>();
  for (const n of input.nodes) views.set(n.id, n);
  const isUp = (id: string): boolean => id === leader || (views.get(id)?.up ?? true);
  const isDead = (id: string): boolean => {
    if (id === leader) return false;
    const v = views.get(id);
    return v !== undefined && !v.up && now - v.since >= options.graceMs;
  };
  const isLeaving = (id: string): boolean => views.get(id)?.leaving === true;
  const caughtUp = (id: string): boolean => input.progress[id]?.caughtUp === true;

  const voters = [...config.voters].sort(byName);
  const learners = [...config.learners].sort(byName);
  const members = new Set([...voters, ...learners]);
  const max = options.maxVoters;

  // 1. Voters that must go: down past grace, or leaving. The leader leaves last, by transfer.
  for (const id of voters) {
    if (id === leader || voters.length === 1) continue;
    if (isDead(id)) return { type: 'removeNode', id, reason: 'down' };
    if (isLeaving(id)) return { type: 'removeNode', id, reason: 'leaving' };
  }
  if (isLeaving(leader) && voters.length > 1) {
    const to = bestTransferee(voters, leader, isUp, isLeaving, caughtUp);
    if (to !== null) return { type: 'transferLeadership', to, reason: 'leaderLeaving' };
  }

  // 2. Learners that must go.
  for (const id of learners) {
    if (isDead(id)) return { type: 'removeNode', id, reason: 'down' };
    if (isLeaving(id)) return { type: 'removeNode', id, reason: 'leaving' };
  }

  // 3. More voters than the cap: demote the weakest non-leader.
  if (voters.length > max) {
    const id = weakestVoter(voters, leader, isUp, caughtUp, input.progress);
    if (id !== null) return { type: 'removeNode', id, reason: 'demote' };
  }

  // 4. Live nodes outside the configuration join as learners.
  const joiner = input.nodes
    .filter((n) => n.up && !members.has(n.id) && n.leaving !== true)
    .map((n) => n.id)
    .sort(byName)[0];
  if (joiner !== undefined) return { type: 'addLearner', id: joiner, reason: 'joined' };

  // 5. An even count rounds up with a caught-up learner, waits for a live one still catching
  // up, or else comes down one rung. An odd count climbs only when two caught-up learners can
  // take it to the next odd rung (else it would have to come back down).
  const promotable = learners.filter((id) => isUp(id) && caughtUp(id) && !isLeaving(id));
  const first = promotable[0];
  if (voters.length % 2 === 0) {
    if (first !== undefined && voters.length + 1 <= max) return { type: 'addVoter', id: first, reason: 'promote' };
    if (voters.length + 1 <= max && learners.some((id) => isUp(id) && !isLeaving(id)))
      return { type: 'none', reason: 'waiting' };
    const id = weakestVoter(voters, leader, isUp, caughtUp, input.progress);
    if (id !== null) return { type: 'removeNode', id, reason: 'demote' };
  } else if (first !== undefined && promotable.length >= 2 && voters.length + 2 <= max) {
    return { type: 'addVoter', id: first, reason: 'promote' };
  }
  return { type: 'none', reason: 'stable' };
}

/** Who takes over from a leaving leader: a live, caught-up voter, lowest name first. */
function bestTransferee(
  voters: readonly string[],
  leader: string,
  isUp: (id: string) => boolean,
  isLeaving: (id: string) => boolean,
  caughtUp: (id: string) => boolean,
): string | null {
  const ok = voters.filter((id) => id !== leader && isUp(id) && !isLeaving(id));
  return ok.find(caughtUp) ?? null;
}

/** The voter whose loss hurts least: down first, then lagging, then lowest match, then last name. */
function weakestVoter(
  voters: readonly string[],
  leader: string,
  isUp: (id: string) => boolean,
  caughtUp: (id: string) => boolean,
  progress: Readonly<Record<string, ReconcileProgress>>,
): string | null {
  const rank = (id: string): [number, number, number] => [
    isUp(id) ? 1 : 0,
    caughtUp(id) ? 1 : 0,
    progress[id]?.match ?? 0,
  ];
  let best: string | null = null;
  let bestRank: [number, number, number] | null = null;
  for (const id of voters) {
    if (id === leader) continue;
    const r = rank(id);
    const better =
      bestRank === null ||
      r[0] < bestRank[0] ||
      (r[0] === bestRank[0] && (r[1] < bestRank[1] || (r[1] === bestRank[1] && r[2] <= bestRank[2])));
    // `<=` on the last key: among equals the later name (voters are sorted) is demoted.
    if (better) {
      best = id;
      bestRank = r;
    }
  }
  return best;
}
