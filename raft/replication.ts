// The leader's side of replication (etcd-io/raft keeps it apart in tracker/ and the sending half
// of raft.go): what the leader knows of each follower, the appends, snapshots and heartbeats it
// sends them, and what their answers change. Committing and leadership transfer stay with the
// engine, which calls these with an Outbox for the messages and events they produce.

import type { RaftLimits } from './limits.js';
import { entryBytes, type RaftLog } from './log.js';
import { Progress } from './progress.js';
import { majorityIndex, majorityVote } from './quorum.js';
import type {
  AppendResponse,
  Entry,
  HeartbeatResponse,
  Message,
  NodeId,
  ProgressState,
  RaftEvent,
  RaftPeerStatus,
  Snapshot,
} from './types.js';

const NONE: readonly never[] = Object.freeze([]);

/** What the leader's messages carry now, and where they and progress events go. */
export interface Outbox {
  readonly term: number;
  readonly commit: number;
  readonly snapshot: Snapshot | null;
  /** Appends, snapshots and heartbeats promise nothing durable: they go out at once. */
  readonly messages: Message[];
  readonly events: RaftEvent[];
}

export class Replication {
  private readonly prs = new Map<NodeId, Progress>();

  constructor(
    private readonly self: NodeId,
    private readonly log: RaftLog,
    private readonly limits: RaftLimits,
  ) {}

  get(id: NodeId): Progress | undefined {
    return this.prs.get(id);
  }

  has(id: NodeId): boolean {
    return this.prs.has(id);
  }

  /** Every follower and its progress. */
  progress(): Iterable<readonly [NodeId, Progress]> {
    return this.prs;
  }

  clear(): void {
    this.prs.clear();
  }

  /** Track exactly the other members of the log's membership; new ones start probing. */
  sync(): void {
    const m = this.log.membership();
    const next = this.log.lastIndex() + 1;
    for (const id of [...m.voters, ...m.learners]) {
      if (id === this.self || this.prs.has(id)) continue;
      this.prs.set(id, new Progress(next, this.limits.maxInflightMessages, this.limits.maxInflightBytes));
    }
    for (const id of [...this.prs.keys()]) {
      if (!m.voters.includes(id) && !m.learners.includes(id)) this.prs.delete(id);
    }
  }

  statuses(voters: readonly NodeId[]): RaftPeerStatus[] {
    const out: RaftPeerStatus[] = [];
    for (const [id, pr] of this.prs) out.push(pr.status(id, voters.includes(id)));
    return out;
  }

  /** The highest index a majority of voters hold, counting `selfIndex` for the leader. */
  quorumIndex(voters: readonly NodeId[], selfIndex: number): number {
    return majorityIndex(voters, (v) => (v === this.self ? selfIndex : (this.prs.get(v)?.match ?? 0)));
  }

  /** A majority of voters (counting us) was heard from since the last check; silence is no vote. */
  quorumActive(voters: readonly NodeId[]): boolean {
    const active = (v: NodeId): true | undefined => v === this.self || this.prs.get(v)?.recentActive || undefined;
    return majorityVote(voters, active) === 'won';
  }

  /** Start a new check-quorum round. */
  forgetActivity(): void {
    for (const pr of this.prs.values()) pr.recentActive = false;
  }

  /** The transport gave up on `peer`: stop pipelining to it. */
  unreachable(peer: NodeId, events: RaftEvent[]): void {
    const pr = this.prs.get(peer);
    if (pr !== undefined && pr.state === 'replicate') {
      pr.becomeProbe();
      progressed(events, peer, pr.state);
    }
  }

  tick(events: RaftEvent[]): void {
    for (const [id, pr] of this.prs) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.limits.electionTicks) {
        // The snapshot (or its answer) was probably lost: probe again, which resends it.
        pr.becomeProbe();
        progressed(events, id, pr.state);
      }
    }
  }

  /**
   * Send `to` the entries it lacks from pr.next on (the snapshot when the log no longer holds
   * them) unless flow control pauses it; an empty append only if `sendIfEmpty`. False: nothing sent.
   */
  sendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean, out: Outbox): boolean {
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm < 0) return this.sendSnapshot(to, pr, out);
    const last = this.log.lastIndex();
    const entries =
      pr.next <= last ? this.log.slice(pr.next, last, this.limits.maxAppendEntries, this.limits.maxAppendBytes) : NONE;
    if (entries.length === 0 && !sendIfEmpty) return false;
    const { term, commit } = out;
    out.messages.push({ type: 'append', from: this.self, to, term, prevIndex, prevTerm, entries, commit });
    if (entries.length > 0 && pr.state === 'replicate') {
      let bytes = 0;
      for (const e of entries) bytes += entryBytes(e);
      const lastSent = (entries[entries.length - 1] as Entry).index;
      pr.next = lastSent + 1;
      pr.inflights.add(lastSent, bytes);
    } else if (pr.state === 'probe') {
      pr.probeSent = true;
    }
    return true;
  }

  /** Pipelining: send `to` appends while its window has room and there is something to send. */
  fill(to: NodeId, pr: Progress, out: Outbox): void {
    while (this.sendAppend(to, pr, false, out));
  }

  broadcastAppend(sendIfEmpty: boolean, out: Outbox): void {
    for (const [id, pr] of this.prs) {
      if (this.sendAppend(id, pr, sendIfEmpty, out) && pr.state === 'replicate') this.fill(id, pr, out);
    }
  }

  /** A heartbeat to every follower for read round `readSeq`, with the commit it may know. */
  broadcastHeartbeat(readSeq: number, out: Outbox): void {
    for (const [id, pr] of this.prs) {
      const commit = Math.min(pr.match, out.commit);
      out.messages.push({ type: 'heartbeat', from: this.self, to: id, term: out.term, commit, readSeq });
    }
  }

  /** A heartbeat answer; true when it confirms a read round (up to `readRound`) it had not yet. */
  heartbeatResp(m: HeartbeatResponse, readRound: number, out: Outbox): boolean {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return false;
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === 'replicate' && pr.inflights.full()) {
      // A full window and the follower is alive: appends were probably lost; resend.
      pr.becomeProbe();
      progressed(out.events, m.from, pr.state);
    }
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, pr, true, out);
    if (m.readSeq <= pr.readAck || m.readSeq > readRound) return false;
    pr.readAck = m.readSeq;
    return true;
  }

  /**
   * An append answer. A rejection moves the follower back (by the fast-backtracking hint) and
   * probes again. Returns its progress when its match advanced, and whether it was paused.
   */
  appendResp(m: AppendResponse, out: Outbox): { readonly pr: Progress; readonly wasPaused: boolean } | null {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return null;
    pr.recentActive = true;
    if (m.reject) {
      let hint = m.hintIndex;
      if (m.hintTerm > 0 && m.hintIndex >= this.log.offset) hint = this.log.findConflictByTerm(m.hintIndex, m.hintTerm);
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') {
          pr.becomeProbe();
          progressed(out.events, m.from, pr.state);
        }
        this.sendAppend(m.from, pr, true, out);
      }
      return null;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return null;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
      progressed(out.events, m.from, pr.state);
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      pr.becomeReplicate();
      progressed(out.events, m.from, pr.state);
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    return { pr, wasPaused };
  }

  private sendSnapshot(to: NodeId, pr: Progress, out: Outbox): boolean {
    if (out.snapshot === null) return false;
    out.messages.push({ type: 'snapshot', from: this.self, to, term: out.term, snapshot: out.snapshot });
    pr.becomeSnapshot(out.snapshot.meta.index);
    progressed(out.events, to, pr.state);
    return true;
  }
}

function progressed(events: RaftEvent[], peer: NodeId, state: ProgressState): void {
  events.push({ type: 'progress', peer, state });
}
