// Runs the voter reconciler (a pure core, reconciler.ts) on the leader of each group that keeps
// its membership in line with the cluster: it remembers which nodes are up and since when (from
// internode's node events), builds the reconciler's input from the engine's status, and turns
// the one decision into one engine step. A refused step (a change still in flight, a learner
// not caught up yet) is simply asked again on the next round.
import type { NodeEvent } from '../../internode/index.js';
import type { RaftEngine, RaftStatus } from '../index.js';
import { MAX_TRACKED_NODES } from './limits.js';
import { reconcile, type ReconcileDecision, type ReconcileNode, type ReconcileOptions } from './reconciler.js';

export interface VoterCounters {
  /** Configuration changes and transfers the reconciler started. */
  reconcileChanges: number;
  /** Decisions the engine refused (asked again next round). */
  reconcileRefused: number;
}

export class VoterKeeper {
  readonly #nodes = new Map<string, { up: boolean; since: number }>();
  /** Per group this host runs, the peers that said they run it too (only they may join it). */
  readonly #runs = new Map<string, Set<string>>();

  constructor(
    readonly self: string,
    readonly options: ReconcileOptions,
  ) {}

  /** Nodes already up when the host started. */
  seed(up: readonly string[], now: number): void {
    for (const node of up) this.#nodes.set(node, { up: true, since: now });
  }

  seen(e: NodeEvent, now: number): void {
    const up = e.type === 'up';
    const known = this.#nodes.get(e.node);
    if (known !== undefined && known.up === up) return;
    this.#nodes.delete(e.node); // re-insert: the map stays ordered by last change
    this.#nodes.set(e.node, { up, since: now });
    if (this.#nodes.size > MAX_TRACKED_NODES) {
      // Forget the node down longest (insertion order is change order).
      for (const [node, v] of this.#nodes) {
        if (!v.up) {
          this.#nodes.delete(node);
          break;
        }
      }
    }
  }

  /** A peer runs `group` (the host only records groups it runs itself). */
  runs(group: string, node: string): void {
    let set = this.#runs.get(group);
    if (set === undefined) this.#runs.set(group, (set = new Set()));
    if (set.size < MAX_TRACKED_NODES) set.add(node);
  }

  forgetGroup(group: string): void {
    this.#runs.delete(group);
  }

  /** The decision for a group this node leads (`none` elsewhere). */
  decide(group: string, status: RaftStatus, now: number): ReconcileDecision {
    if (status.role !== 'leader') return { type: 'none', reason: 'notVoter' };
    const runs = this.#runs.get(group);
    const members = new Set([...status.membership.voters, ...status.membership.learners]);
    const nodes: ReconcileNode[] = [];
    for (const [id, v] of this.#nodes) {
      if (id === this.self || !(members.has(id) || runs?.has(id) === true)) continue;
      nodes.push({ id, up: v.up, since: v.since });
    }
    const progress: Record<string, { match: number; caughtUp: boolean }> = {};
    for (const p of status.peers) progress[p.id] = { match: p.match, caughtUp: p.match >= status.commit };
    return reconcile({
      now,
      leader: this.self,
      nodes,
      progress,
      config: status.membership,
      changeInFlight: status.transferee !== null,
      options: this.options,
    });
  }

  /** Runs one round on a group's engine; returns what it did. */
  run(group: string, engine: RaftEngine, now: number, counters: VoterCounters): ReconcileDecision {
    const decision = this.decide(group, engine.status(), now);
    if (decision.type === 'none') return decision;
    const r =
      decision.type === 'transferLeadership'
        ? engine.step({ type: 'transferLeadership', to: decision.to })
        : engine.step({ type: 'changeConfig', change: { type: decision.type, id: decision.id } });
    if (r.ok) counters.reconcileChanges++;
    else counters.reconcileRefused++;
    return decision;
  }
}
