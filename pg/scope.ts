// The pure state machine of one pg scope on one node. Inputs are method calls (local join and
// leave, process exit, peer up/down, peer messages, queue-full signals, ticks with `now`);
// outputs are drained with `takeOutputs()` (messages for peers, monitors with new events) and
// `takeEvents(ref)`. No I/O, no timers, no clock, no randomness: the host drives everything.
import { isPid, validateNodeName } from '../runtime/base.js';
import type { Pid } from '../runtime/base.js';
import { TroupeError } from '../runtime/base.js';
import { PgLimitError, PgNoProcError, PgNotLocalError } from './errors.js';
import { GroupState, multisetDiff, samePidSequence } from './group.js';
import { clampedBackoff, resolveLimits, resolveTimings } from './limits.js';
import type { PgLimits, PgTimings } from './limits.js';
import { parsePeerMessage } from './messages.js';
import { MESSAGE_OVERHEAD_BYTES, blockBytes, pidBytes } from './size.js';
import { MonitorTable } from './monitors.js';
import { MembershipDigest } from './digest.js';
import type {
  Group,
  GroupMonitorHandle,
  LeaveResult,
  MonitorRef,
  PgDeltaMessage,
  PgDeltaOp,
  PgDigestMessage,
  PgEvent,
  PgMembershipEvent,
  PgOutputs,
  PgSend,
  PgStats,
  PgSyncMessage,
  ScopeMonitorHandle,
} from './types.js';

export interface PgScopeOptions {
  /** Scope name; only the scope of the same name on other nodes syncs with this one. */
  readonly scope: string;
  /** This node's name and incarnation: local pids are exactly those with both. */
  readonly node: string;
  readonly incarnation: number;
  /**
   * Liveness check for local pids, consulted by join and by monitors with an owner. A pid the
   * host reports dead is refused with ERR_NOPROC (rule 9). Default: every pid is alive.
   */
  readonly isAlive?: (pid: Pid) => boolean;
  readonly limits?: Partial<PgLimits>;
  readonly timings?: Partial<PgTimings>;
  /** The host's clock at construction, in ms (same clock as later `tick(now)`). Default 0. */
  readonly now?: number;
}

/** What this node knows about one peer node incarnation of the same scope. */
interface Peer {
  readonly node: string;
  readonly incarnation: number;
  // -- inbound: the peer's memberships in our view --
  /** A sync from this incarnation has been applied; deltas are accepted from `version` on. */
  synced: boolean;
  version: number;
  /** Groups where this peer has members in our view, with how many. */
  readonly groups: Map<Group, number>;
  /** Digest (and count) of the peer's memberships in our view, checked against its own digests. */
  readonly view: MembershipDigest;
  /**
   * Our view of it is cut short by a limit (per group, group count, per peer, or in total): its
   * digests are not checked, and a resync is asked for after a growing backoff.
   */
  truncated: boolean;
  truncatedAttempt: number;
  /** It went past maxMembershipsPerPeer or maxRemoteMemberships: its deltas are refused until a sync fits. */
  refusing: boolean;
  /** We want its sync (just up, or our view of it broke): a discover is due or awaited. */
  awaitingSync: boolean;
  discoverDue: boolean;
  discoverAttempt: number;
  discoverRetryAt: number;
  // -- outbound: our stream of deltas to it --
  /**
   * It has our sync and gets deltas at each flush. Every streamed peer is at `#logBase` between
   * flushes (a stream starts with a sync at a flush), so one delta fits them all.
   */
  streaming: boolean;
  /** Send a full sync at the next flush (discover answered, resync after a full queue). */
  syncDue: boolean;
  /** Send our digest after this flush's deltas (anti-entropy: its view of us is checked there). */
  digestDue: boolean;
  /** A sync went to this incarnation since it came up (so its sync needs no reply). */
  sentSyncSinceUp: boolean;
  /** Parts of a multi-part sync received so far (applied when the last part arrives). */
  pendingSync: PendingSync | undefined;
  /** Version of the last multi-part sync found broken (its later parts are dropped quietly). */
  brokenSyncVersion: number;
  /** Its `pg` queue was full: nothing goes out until room returns (or the retry time). */
  blocked: boolean;
  blockedAttempt: number;
  blockedRetryAt: number;
}

interface PendingSync {
  readonly version: number;
  nextPart: number;
  readonly groups: Map<Group, Pid[]>;
  pids: number;
}

function freezePids(pids: readonly Pid[]): readonly Pid[] {
  return Object.isFrozen(pids) ? pids : Object.freeze(pids.slice());
}

/** A PgStats with every counter at zero (also the list of counter names a host exports). */
export function newStats(): PgStats {
  return {
    messagesApplied: 0,
    droppedMalformed: 0,
    droppedMisrouted: 0,
    droppedNotUp: 0,
    droppedUnsynced: 0,
    droppedDuplicate: 0,
    droppedGap: 0,
    droppedStaleSync: 0,
    droppedSyncPart: 0,
    inconsistentRemoteOps: 0,
    droppedOverLimit: 0,
    syncsSent: 0,
    syncsReceived: 0,
    deltasSent: 0,
    discoversSent: 0,
    peerQueueFull: 0,
    pendingLogOverflows: 0,
    monitorOverflows: 0,
    digestsSent: 0,
    digestsInSync: 0,
    digestMismatches: 0,
    refusedOverPeerLimit: 0,
  };
}

interface LocalPid {
  readonly pid: Pid;
  /** One entry per membership, in join order: an exit leaves from the end (rule 10). */
  readonly groups: Group[];
}

const EMPTY_PIDS: readonly Pid[] = Object.freeze([]);
const EMPTY_GROUPS: readonly Group[] = Object.freeze([]);

export class PgScope {
  readonly scope: string;
  readonly node: string;
  readonly incarnation: number;
  readonly limits: PgLimits;
  readonly timings: PgTimings;

  readonly #isAlive: (pid: Pid) => boolean;
  readonly #groups = new Map<Group, GroupState>();
  readonly #localPids = new Map<string, LocalPid>();
  readonly #peers = new Map<string, Peer>();
  readonly #monitors: MonitorTable;
  readonly #stats = newStats();
  #whichGroups: readonly Group[] | undefined;
  #whichLocalGroups: readonly Group[] | undefined;

  /** Local version: one step per local change op; syncs and deltas are numbered with it. */
  #version = 0;
  /** Ops after `#logBase` not yet flushed to streamed peers. */
  #log: PgDeltaOp[] = [];
  #logPids = 0;
  #logBase = 0;
  /** Memberships of local pids, and the heads of local groups: the size of a sync (size.ts). */
  #localMemberships = 0;
  #localGroupHeadBytes = 0;
  /** Digest of this node's local memberships (what our digests announce). */
  readonly #localDigest = new MembershipDigest();
  /** Memberships of every peer held in our view, together (bounded by maxRemoteMemberships). */
  #remoteMemberships = 0;
  readonly #pidBytes: number;
  #streamingPeers = 0;

  #now: number;
  #nextAntiEntropyAt: number;
  #antiEntropyCursor = 0;

  constructor(options: PgScopeOptions) {
    if (typeof options.scope !== 'string' || options.scope.length === 0) {
      throw new TroupeError('ERR_BAD_ARGUMENT', 'pg: scope name must be a non-empty string');
    }
    validateNodeName(options.node);
    if (!Number.isSafeInteger(options.incarnation) || options.incarnation < 0) {
      throw new TroupeError('ERR_BAD_ARGUMENT', `pg: bad incarnation ${String(options.incarnation)}`);
    }
    this.scope = options.scope;
    this.node = options.node;
    this.incarnation = options.incarnation;
    this.limits = resolveLimits(options.limits);
    this.timings = resolveTimings(options.timings);
    if (options.scope.length > this.limits.maxGroupNameLength) {
      throw new TroupeError('ERR_BAD_ARGUMENT', 'pg: scope name too long');
    }
    this.#isAlive = options.isAlive ?? (() => true);
    this.#pidBytes = pidBytes(options.node);
    this.#monitors = new MonitorTable(this.limits.maxQueuedEventsPerMonitor);
    this.#now = options.now ?? 0;
    this.#nextAntiEntropyAt = this.#now + this.timings.antiEntropyIntervalMs;
  }

  // ------------------------------------------------------------------ reads

  /** Every member of `group` on every connected node, newest first per rule 4; `[]` if none. */
  members(group: Group): readonly Pid[] {
    return this.#groups.get(group)?.members() ?? EMPTY_PIDS;
  }

  /** This node's members of `group`, in the same relative order as `members`. */
  localMembers(group: Group): readonly Pid[] {
    return this.#groups.get(group)?.localMembers() ?? EMPTY_PIDS;
  }

  /**
   * Each member of `group` once, in `members` order: the targets of `broadcast`. Cached like
   * `members` (rebuilt only after the group changes).
   */
  distinctMembers(group: Group): readonly Pid[] {
    return this.#groups.get(group)?.distinctMembers() ?? EMPTY_PIDS;
  }

  /** Each local member of `group` once: the targets of `broadcastLocal`. */
  distinctLocalMembers(group: Group): readonly Pid[] {
    return this.#groups.get(group)?.distinctLocalMembers() ?? EMPTY_PIDS;
  }

  /** Every group this node knows (with at least one member). */
  whichGroups(): readonly Group[] {
    return (this.#whichGroups ??= Object.freeze([...this.#groups.keys()]));
  }

  /** Groups with at least one local member. */
  whichLocalGroups(): readonly Group[] {
    if (this.#whichLocalGroups === undefined) {
      const out: Group[] = [];
      for (const [name, state] of this.#groups) if (state.localCount > 0) out.push(name);
      this.#whichLocalGroups = out.length === 0 ? EMPTY_GROUPS : Object.freeze(out);
    }
    return this.#whichLocalGroups;
  }

  /**
   * Nodes this scope currently treats as up: the incarnation it knows, whether that peer's sync
   * was applied, and the peer's local version our view of it reflects.
   */
  peers(): ReadonlyArray<{
    readonly node: string;
    readonly incarnation: number;
    readonly synced: boolean;
    readonly version: number;
  }> {
    return [...this.#peers.values()].map((p) => ({
      node: p.node,
      incarnation: p.incarnation,
      synced: p.synced,
      version: p.version,
    }));
  }

  stats(): Readonly<PgStats> {
    return { ...this.#stats, monitorOverflows: this.#monitors.overflows };
  }

  /** Memberships of every peer held in this node's view, together (bounded by maxRemoteMemberships). */
  get remoteMemberships(): number {
    return this.#remoteMemberships;
  }

  /** This scope's local version (one step per local change op). */
  get version(): number {
    return this.#version;
  }

  // ------------------------------------------------------------------ local changes

  /**
   * Join every pid of `pids` to every group of `groups` (a list joins at the head in its order,
   * rule 4). The whole call is validated before anything changes (rule 5): a non-pid is a
   * TypeError, a remote pid a PgNotLocalError, a dead pid a PgNoProcError, a limit a PgLimitError.
   * `join(g, [])` changes nothing (rule 8). Events are queued before this returns (rule 19).
   */
  join(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): void {
    const groupList = this.#checkGroups(groups);
    const pidList = this.#checkLocalPids(pids, true);
    if (pidList.length === 0 || groupList.length === 0) return;
    this.#checkJoinLimits(groupList, pidList);

    const canonical = this.#canonicalize(pidList);
    const opPids = Object.freeze(canonical);
    for (const group of groupList) {
      let state = this.#groups.get(group);
      if (state === undefined) state = this.#createGroup(group);
      const wasLocal = state.localCount > 0;
      state.pushHead(opPids);
      if (!wasLocal) this.#localGroupAppeared(group);
      for (const pid of opPids) (this.#localPids.get(pid.toString()) as LocalPid).groups.push(group);
      this.#localMemberships += opPids.length;
      this.#recordLocalOp('j', group, opPids);
    }
  }

  /**
   * Remove one occurrence of each listed pid from each group where it is a member (most recent
   * occurrence first, rule 4). Returns 'not_joined' when nothing was removed (rules 2, 3, 7).
   * Only local pids (rule 5); liveness is not checked.
   */
  leave(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): LeaveResult {
    const groupList = this.#checkGroups(groups);
    const pidList = this.#checkLocalPids(pids, false);
    for (const group of groupList) this.#checkOpBytes(group, pidList.length);
    let removedAny = false;
    for (const group of groupList) {
      const state = this.#groups.get(group);
      if (state === undefined) continue;
      const removed: Pid[] = [];
      for (const pid of pidList) {
        const local = this.#localPids.get(pid.toString());
        if (local === undefined) continue;
        if (state.removeMostRecent(local.pid)) {
          removed.push(local.pid);
          this.#forgetMembership(local, group);
        }
      }
      if (removed.length === 0) continue;
      removedAny = true;
      this.#localMemberships -= removed.length;
      if (state.localCount === 0) this.#localGroupGone(group);
      this.#dropIfEmpty(state);
      this.#recordLocalOp('l', group, Object.freeze(removed));
    }
    return removedAny ? 'ok' : 'not_joined';
  }

  /**
   * A local process exited (any reason): its monitors end, and every membership it held is
   * removed, one leave event per membership, most recently joined group first (rule 10).
   * For a pid of another node this only ends monitors it owned (none are accepted).
   */
  processExit(pid: Pid): void {
    if (!isPid(pid)) throw new TypeError('pg: processExit needs a Pid');
    const key = pid.toString();
    this.#monitors.removeOwnedBy(key);
    const local = this.#localPids.get(key);
    if (local === undefined) return;
    this.#localPids.delete(key);
    for (let i = local.groups.length - 1; i >= 0; i--) {
      const group = local.groups[i] as Group;
      const state = this.#groups.get(group);
      if (state === undefined || !state.removeMostRecent(local.pid)) continue;
      this.#localMemberships--;
      if (state.localCount === 0) this.#localGroupGone(group);
      this.#dropIfEmpty(state);
      this.#recordLocalOp('l', group, Object.freeze([local.pid]));
    }
  }

  // ------------------------------------------------------------------ monitors

  /** Snapshot of every group plus, from this instant on, every change in the scope (rule 17). */
  monitorScope(owner?: Pid): ScopeMonitorHandle {
    const ownerKey = this.#checkMonitorOwner(owner);
    const snapshot = new Map<Group, readonly Pid[]>();
    for (const [name, state] of this.#groups) snapshot.set(name, state.members());
    const ref = this.#monitors.add(undefined, ownerKey);
    return { ref, snapshot };
  }

  /** Snapshot of one group (`[]` if empty) plus every later change of that group. */
  monitor(group: Group, owner?: Pid): GroupMonitorHandle {
    if (typeof group !== 'string') throw new TypeError('pg: monitor needs one group name (a string)');
    this.#checkGroups(group);
    const ownerKey = this.#checkMonitorOwner(owner);
    const ref = this.#monitors.add(group, ownerKey);
    return { ref, group, snapshot: this.members(group) };
  }

  /** Stop a monitor now, discarding its queued events; false if unknown or already stopped (rule 21). */
  demonitor(ref: MonitorRef): boolean {
    return this.#monitors.remove(ref);
  }

  /** Hand over the events queued for `ref`, oldest first (`[]` for an unknown ref). */
  takeEvents(ref: MonitorRef): readonly PgEvent[] {
    return this.#monitors.take(ref);
  }

  hasMonitor(ref: MonitorRef): boolean {
    return this.#monitors.has(ref);
  }

  // ------------------------------------------------------------------ peers

  /**
   * The node `node` (incarnation `incarnation`) is up and runs this scope's protocol. A new
   * incarnation of a known node is handled as that node going down, then up. We ask it for
   * its memberships (discover) and will answer its discover with our sync.
   */
  peerUp(node: string, incarnation: number): void {
    validateNodeName(node);
    if (node === this.node) throw new TroupeError('ERR_BAD_ARGUMENT', 'pg: peerUp of this node itself');
    if (!Number.isSafeInteger(incarnation) || incarnation < 0)
      throw new TroupeError('ERR_BAD_ARGUMENT', 'pg: bad peer incarnation');
    const known = this.#peers.get(node);
    if (known !== undefined) {
      if (known.incarnation === incarnation) return;
      this.peerDown(node);
    }
    if (this.#peers.size >= this.limits.maxPeers) {
      throw new PgLimitError('maxPeers', this.limits.maxPeers, `too many peers for scope ${this.scope}`);
    }
    this.#peers.set(node, {
      node,
      incarnation,
      synced: false,
      version: 0,
      groups: new Map(),
      view: new MembershipDigest(),
      truncated: false,
      truncatedAttempt: 0,
      refusing: false,
      awaitingSync: true,
      discoverDue: true,
      discoverAttempt: 0,
      discoverRetryAt: this.#now,
      streaming: false,
      pendingSync: undefined,
      brokenSyncVersion: -1,
      syncDue: false,
      digestDue: false,
      sentSyncSinceUp: false,
      blocked: false,
      blockedAttempt: 0,
      blockedRetryAt: 0,
    });
  }

  /**
   * The node is down (or disconnected): its members leave every group, one leave event per
   * group with that node's pids newest first (rule 11). Later messages from it are dropped
   * until it is up again.
   */
  peerDown(node: string): void {
    const peer = this.#peers.get(node);
    if (peer === undefined) return;
    this.#peers.delete(node);
    if (peer.streaming) this.#streamingPeers--;
    this.#remoteMemberships -= peer.view.count;
    for (const group of peer.groups.keys()) {
      const state = this.#groups.get(group);
      if (state === undefined) continue;
      const removed = state.removeNode(node);
      this.#dropIfEmpty(state);
      if (removed.length > 0) this.#emit('leave', group, removed);
    }
  }

  /**
   * The host could not enqueue a message for `node` (its `pg` queue is full). Back-pressure,
   * not failure: the peer stays up, its stream stops, and it gets a full sync once room returns
   * (`peerQueueReady`) or, failing that signal, at a clamped backoff on `tick`.
   */
  peerQueueFull(node: string): void {
    const peer = this.#peers.get(node);
    if (peer === undefined) return;
    this.#stats.peerQueueFull++;
    this.#stopStreaming(peer);
    peer.syncDue = true;
    peer.blocked = true;
    peer.blockedRetryAt =
      this.#now + clampedBackoff(this.timings.blockedRetryMs, this.timings.blockedRetryMaxMs, peer.blockedAttempt);
    peer.blockedAttempt++;
  }

  /** Room returned in `node`'s `pg` queue: the pending resync goes out at the next flush. */
  peerQueueReady(node: string): void {
    const peer = this.#peers.get(node);
    if (peer === undefined || !peer.blocked) return;
    peer.blocked = false;
    peer.blockedAttempt = 0;
  }

  /**
   * A decoded message from node `from` (the link's node name). Validated in full; a malformed,
   * misrouted, stale or duplicate message is counted and dropped, never thrown.
   */
  receive(from: string, raw: unknown): void {
    const parsed = parsePeerMessage(raw, from, this.limits);
    if (!parsed.ok) {
      this.#stats.droppedMalformed++;
      return;
    }
    const message = parsed.message;
    if (message.scope !== this.scope || message.toInc !== this.incarnation) {
      this.#stats.droppedMisrouted++;
      return;
    }
    const peer = this.#peers.get(from);
    if (peer === undefined || peer.incarnation !== message.inc) {
      this.#stats.droppedNotUp++;
      return;
    }
    switch (message.t) {
      case 'discover':
        peer.syncDue = true;
        this.#stats.messagesApplied++;
        return;
      case 'sync':
        this.#receiveSyncPart(peer, message);
        return;
      case 'delta':
        this.#applyDelta(peer, message);
        return;
      case 'digest':
        this.#checkDigest(peer, message);
        return;
    }
  }

  /**
   * Advance time: retries of discover (clamped backoff) and of blocked peers, and one
   * anti-entropy digest to the next peer in turn every `antiEntropyIntervalMs`.
   */
  tick(now: number): void {
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('pg: tick needs a finite number');
    if (now > this.#now) this.#now = now;
    for (const peer of this.#peers.values()) {
      if (peer.blocked && this.#now >= peer.blockedRetryAt) peer.blocked = false;
      if (peer.awaitingSync && !peer.discoverDue && this.#now >= peer.discoverRetryAt) peer.discoverDue = true;
    }
    if (this.#now >= this.#nextAntiEntropyAt) {
      this.#nextAntiEntropyAt = this.#now + this.timings.antiEntropyIntervalMs;
      // Only a streamed peer is at our version after a flush, so only its view can be checked.
      const candidates = [...this.#peers.values()].filter((p) => p.streaming && !p.syncDue && !p.blocked);
      if (candidates.length > 0) {
        const peer = candidates[this.#antiEntropyCursor % candidates.length] as Peer;
        this.#antiEntropyCursor = (this.#antiEntropyCursor + 1) % 1_000_000_007;
        peer.digestDue = true;
      }
    }
  }

  // ------------------------------------------------------------------ outputs

  /**
   * Drain what the host must do now: messages per peer (one delta packet per peer per flush,
   * split only past `maxOpsPerDeltaMessage`; full syncs; discovers) and monitors with new events.
   */
  takeOutputs(): PgOutputs {
    const sends: PgSend[] = [];
    const deltaChunks = this.#deltaChunks();
    for (const peer of this.#peers.values()) {
      if (peer.blocked) continue;
      if (peer.discoverDue) {
        peer.discoverDue = false;
        peer.discoverRetryAt =
          this.#now +
          clampedBackoff(this.timings.discoverRetryMs, this.timings.discoverRetryMaxMs, peer.discoverAttempt);
        peer.discoverAttempt++;
        sends.push({
          to: peer.node,
          message: { t: 'discover', scope: this.scope, inc: this.incarnation, toInc: peer.incarnation },
        });
        this.#stats.discoversSent++;
      }
      if (peer.syncDue) {
        for (const message of this.#syncParts(peer)) sends.push({ to: peer.node, message });
        peer.syncDue = false;
        peer.sentSyncSinceUp = true;
        if (!peer.streaming) this.#streamingPeers++;
        peer.streaming = true;
        this.#stats.syncsSent++;
      } else if (peer.streaming && deltaChunks.length > 0) {
        let base = this.#logBase;
        for (const ops of deltaChunks) {
          const message: PgDeltaMessage = {
            t: 'delta',
            scope: this.scope,
            inc: this.incarnation,
            toInc: peer.incarnation,
            base,
            version: base + ops.length,
            ops,
          };
          sends.push({ to: peer.node, message });
          base += ops.length;
          this.#stats.deltasSent++;
        }
      }
      if (peer.digestDue) {
        peer.digestDue = false;
        // After this flush's deltas on the same FIFO link: the peer's view must then be at our version.
        if (peer.streaming) sends.push({ to: peer.node, message: this.#digestFor(peer) });
      }
    }
    this.#log = [];
    this.#logPids = 0;
    this.#logBase = this.#version;
    return { sends, readyMonitors: this.#monitors.takeReady() };
  }

  /**
   * Only the monitors with new events (no peer messages): lets a host deliver events to
   * mailboxes before join/leave returns (rule 19) while batching peer sends until a later flush.
   */
  takeReadyMonitors(): readonly MonitorRef[] {
    return this.#monitors.takeReady();
  }

  // ------------------------------------------------------------------ internals: local side

  #checkGroups(groups: Group | readonly Group[]): readonly Group[] {
    const list = typeof groups === 'string' ? [groups] : groups;
    if (!Array.isArray(list)) throw new TypeError('pg: group must be a string or an array of strings');
    if (list.length > this.limits.maxGroupsPerCall) {
      throw new PgLimitError('maxGroupsPerCall', this.limits.maxGroupsPerCall, `${list.length} groups in one call`);
    }
    for (const group of list) {
      if (typeof group !== 'string') throw new TypeError(`pg: group name must be a string, got ${typeof group}`);
      if (group.length > this.limits.maxGroupNameLength) {
        throw new PgLimitError('maxGroupNameLength', this.limits.maxGroupNameLength, 'group name too long');
      }
    }
    return list;
  }

  #checkLocalPids(pids: Pid | readonly Pid[], mustBeAlive: boolean): readonly Pid[] {
    const list = isPid(pids) ? [pids] : pids;
    if (!Array.isArray(list)) throw new TypeError('pg: expected a Pid or an array of Pids');
    if (list.length > this.limits.maxPidsPerCall) {
      throw new PgLimitError('maxPidsPerCall', this.limits.maxPidsPerCall, `${list.length} pids in one call`);
    }
    for (const pid of list as readonly unknown[]) {
      if (!isPid(pid)) throw new TypeError(`pg: not a pid: ${String(pid)}`);
      if (pid.node !== this.node || pid.incarnation !== this.incarnation)
        throw new PgNotLocalError(pid, `${this.node}/${this.incarnation}`);
    }
    if (mustBeAlive) {
      for (const pid of list) if (!this.#isAlive(pid)) throw new PgNoProcError(pid);
    }
    return list;
  }

  #checkJoinLimits(groups: readonly Group[], pids: readonly Pid[]): void {
    const limits = this.limits;
    if (groups.length === 1 && pids.length === 1) {
      // The common call, checked without building count maps.
      const group = groups[0] as Group;
      this.#checkOpBytes(group, 1);
      this.#checkSyncBytes(1, (this.#groups.get(group)?.localCount ?? 0) > 0 ? [] : [group]);
      const size = this.#groups.get(group)?.size ?? 0;
      if (size + 1 > limits.maxMembersPerGroup) {
        throw new PgLimitError(
          'maxMembersPerGroup',
          limits.maxMembersPerGroup,
          `group ${JSON.stringify(group)} would hold ${size + 1} members`,
        );
      }
      if (size === 0 && this.#groups.size + 1 > limits.maxGroupsPerScope) {
        throw new PgLimitError(
          'maxGroupsPerScope',
          limits.maxGroupsPerScope,
          `scope ${this.scope} would hold ${this.#groups.size + 1} groups`,
        );
      }
      const key = (pids[0] as Pid).toString();
      const held = this.#localPids.get(key)?.groups.length ?? 0;
      if (held + 1 > limits.maxMembershipsPerPid) {
        throw new PgLimitError(
          'maxMembershipsPerPid',
          limits.maxMembershipsPerPid,
          `${key} would hold ${held + 1} memberships`,
        );
      }
      return;
    }
    const perGroup = new Map<Group, number>();
    for (const group of groups) {
      this.#checkOpBytes(group, pids.length);
      perGroup.set(group, (perGroup.get(group) ?? 0) + pids.length);
    }
    let newGroups = 0;
    for (const [group, adding] of perGroup) {
      const size = this.#groups.get(group)?.size ?? 0;
      if (size === 0) newGroups++;
      if (size + adding > limits.maxMembersPerGroup) {
        throw new PgLimitError(
          'maxMembersPerGroup',
          limits.maxMembersPerGroup,
          `group ${JSON.stringify(group)} would hold ${size + adding} members`,
        );
      }
    }
    const newLocalGroups = [...perGroup.keys()].filter((g) => (this.#groups.get(g)?.localCount ?? 0) === 0);
    this.#checkSyncBytes(groups.length * pids.length, newLocalGroups);
    if (this.#groups.size + newGroups > limits.maxGroupsPerScope) {
      throw new PgLimitError(
        'maxGroupsPerScope',
        limits.maxGroupsPerScope,
        `scope ${this.scope} would hold ${this.#groups.size + newGroups} groups`,
      );
    }
    const perPid = new Map<string, number>();
    for (const pid of pids) perPid.set(pid.toString(), (perPid.get(pid.toString()) ?? 0) + groups.length);
    for (const [key, adding] of perPid) {
      const held = this.#localPids.get(key)?.groups.length ?? 0;
      if (held + adding > limits.maxMembershipsPerPid) {
        throw new PgLimitError(
          'maxMembershipsPerPid',
          limits.maxMembershipsPerPid,
          `${key} would hold ${held + adding} memberships`,
        );
      }
    }
  }

  #localGroupAppeared(group: Group): void {
    this.#whichLocalGroups = undefined;
    this.#localGroupHeadBytes += blockBytes(group, 0, this.node);
  }

  #localGroupGone(group: Group): void {
    this.#whichLocalGroups = undefined;
    this.#localGroupHeadBytes -= blockBytes(group, 0, this.node);
  }

  /** Estimated content of a full sync now (without the per-part envelopes). */
  get syncBytes(): number {
    return MESSAGE_OVERHEAD_BYTES + this.#localGroupHeadBytes + this.#localMemberships * this.#pidBytes;
  }

  #checkSyncBytes(addedMemberships: number, newLocalGroups: Iterable<Group>): void {
    let bytes = this.syncBytes + addedMemberships * this.#pidBytes;
    for (const group of newLocalGroups) bytes += blockBytes(group, 0, this.node);
    if (bytes > this.limits.maxSyncBytes) {
      throw new PgLimitError(
        'maxSyncBytes',
        this.limits.maxSyncBytes,
        `local memberships of scope ${this.scope} would need a sync of ~${bytes} bytes`,
      );
    }
  }

  /** One local op must fit in one delta message. */
  #checkOpBytes(group: Group, pidCount: number): void {
    const bytes = MESSAGE_OVERHEAD_BYTES + blockBytes(group, pidCount, this.node);
    if (bytes > this.limits.maxMessageBytes) {
      throw new PgLimitError(
        'maxMessageBytes',
        this.limits.maxMessageBytes,
        `an op of ${pidCount} pids on ${JSON.stringify(group.slice(0, 64))} would need ~${bytes} bytes`,
      );
    }
  }

  /** One Pid instance per local process, so the view compares by identity. */
  #canonicalize(pids: readonly Pid[]): Pid[] {
    const out = new Array<Pid>(pids.length);
    for (let i = 0; i < pids.length; i++) {
      const pid = pids[i] as Pid;
      const key = pid.toString();
      let local = this.#localPids.get(key);
      if (local === undefined) this.#localPids.set(key, (local = { pid, groups: [] }));
      out[i] = local.pid;
    }
    return out;
  }

  #forgetMembership(local: LocalPid, group: Group): void {
    const at = local.groups.lastIndexOf(group);
    if (at >= 0) local.groups.splice(at, 1);
    if (local.groups.length === 0) this.#localPids.delete(local.pid.toString());
  }

  #checkMonitorOwner(owner: Pid | undefined): string | undefined {
    if (owner === undefined) return undefined;
    if (!isPid(owner)) throw new TypeError('pg: monitor owner must be a Pid');
    if (owner.node !== this.node || owner.incarnation !== this.incarnation)
      throw new PgNotLocalError(owner, `${this.node}/${this.incarnation}`);
    if (!this.#isAlive(owner)) throw new PgNoProcError(owner);
    if (this.#monitors.size >= this.limits.maxMonitors) {
      throw new PgLimitError('maxMonitors', this.limits.maxMonitors, `too many monitors in scope ${this.scope}`);
    }
    return owner.toString();
  }

  #recordLocalOp(kind: 'j' | 'l', group: Group, pids: readonly Pid[]): void {
    this.#version++;
    this.#localDigest.change(group, pids, kind === 'j' ? 1 : -1);
    if (this.#streamingPeers > 0) {
      if (
        this.#log.length >= this.limits.maxPendingDeltaOps ||
        this.#logPids + pids.length > this.limits.maxPendingDeltaPids
      ) {
        // The host has not flushed for too long: a full sync per peer replaces the backlog.
        this.#stats.pendingLogOverflows++;
        for (const peer of this.#peers.values()) {
          if (peer.streaming) {
            this.#stopStreaming(peer);
            peer.syncDue = true;
          }
        }
        this.#log = [];
        this.#logPids = 0;
        this.#logBase = this.#version;
      } else {
        this.#log.push([kind, group, pids]);
        this.#logPids += pids.length;
      }
    } else {
      // Nobody is streamed: a later stream starts with a full sync, so no op needs keeping.
      this.#log = [];
      this.#logPids = 0;
      this.#logBase = this.#version;
    }
    this.#emit(kind === 'j' ? 'join' : 'leave', group, pids);
  }

  /** The pending log cut into messages of at most maxOpsPerDeltaMessage ops and maxMessageBytes. */
  #deltaChunks(): PgDeltaOp[][] {
    const log = this.#log;
    if (log.length === 0 || this.#streamingPeers === 0) return [];
    const maxOps = this.limits.maxOpsPerDeltaMessage;
    const maxBytes = this.limits.maxMessageBytes;
    const chunks: PgDeltaOp[][] = [];
    let chunk: PgDeltaOp[] = [];
    let bytes = MESSAGE_OVERHEAD_BYTES;
    for (const op of log) {
      const opBytes = blockBytes(op[1], op[2].length, this.node);
      if (chunk.length > 0 && (chunk.length >= maxOps || bytes + opBytes > maxBytes)) {
        chunks.push(chunk);
        chunk = [];
        bytes = MESSAGE_OVERHEAD_BYTES;
      }
      chunk.push(op);
      bytes += opBytes;
    }
    chunks.push(chunk);
    return chunks;
  }

  /** Our local memberships now, in as many parts as maxMessageBytes requires (at least one). */
  #syncParts(peer: Peer): PgSyncMessage[] {
    const maxBytes = this.limits.maxMessageBytes;
    const parts: PgSyncMessage[] = [];
    let groups: [Group, readonly Pid[]][] = [];
    let bytes = MESSAGE_OVERHEAD_BYTES;
    const cut = (last: boolean): void => {
      parts.push({
        t: 'sync',
        scope: this.scope,
        inc: this.incarnation,
        toInc: peer.incarnation,
        version: this.#version,
        part: parts.length,
        last,
        groups,
      });
      groups = [];
      bytes = MESSAGE_OVERHEAD_BYTES;
    };
    const perPid = blockBytes('', 1, this.node) - blockBytes('', 0, this.node);
    for (const group of this.whichLocalGroups()) {
      const members = (this.#groups.get(group) as GroupState).localMembers();
      let from = 0;
      while (from < members.length) {
        const head = blockBytes(group, 0, this.node);
        if (groups.length > 0 && bytes + head + perPid > maxBytes) cut(false);
        // One op always fits (checked at join), so a fresh part has room for at least one pid.
        const room = Math.max(1, Math.floor((maxBytes - bytes - head) / perPid));
        const take = from === 0 && room >= members.length ? members : members.slice(from, from + room);
        groups.push([group, take]);
        bytes += head + take.length * perPid;
        from += take.length;
      }
    }
    cut(true);
    return parts;
  }

  #stopStreaming(peer: Peer): void {
    if (peer.streaming) {
      peer.streaming = false;
      this.#streamingPeers--;
    }
  }

  // ------------------------------------------------------------------ internals: remote side

  #receiveSyncPart(peer: Peer, message: PgSyncMessage): void {
    if (peer.synced && message.version < peer.version) {
      this.#stats.droppedStaleSync++;
      return;
    }
    if (message.part === 0 && message.last) {
      peer.pendingSync = undefined;
      this.#stats.messagesApplied++;
      this.#applySync(peer, message.version, new Map<Group, readonly Pid[]>(message.groups));
      return;
    }
    let pending = peer.pendingSync;
    if (message.part === 0) {
      pending = peer.pendingSync = { version: message.version, nextPart: 0, groups: new Map(), pids: 0 };
    }
    if (pending === undefined || pending.version !== message.version || pending.nextPart !== message.part) {
      // A part is missing or out of place: this sync cannot be completed; ask for a new one,
      // once per broken sync (its remaining parts are dropped the same way).
      const firstBreak = message.version !== peer.brokenSyncVersion;
      peer.pendingSync = undefined;
      peer.brokenSyncVersion = message.version;
      this.#stats.droppedSyncPart++;
      if (firstBreak) {
        peer.awaitingSync = true;
        peer.discoverDue = true;
      }
      return;
    }
    for (const [group, pids] of message.groups) {
      pending.pids += pids.length;
      const block = pending.groups.get(group);
      if (block === undefined) pending.groups.set(group, pids.slice());
      else for (const pid of pids) block.push(pid);
    }
    if (
      pending.pids * pidBytes(peer.node) > this.limits.maxSyncBytes ||
      pending.groups.size > this.limits.maxGroupsPerScope
    ) {
      peer.pendingSync = undefined;
      this.#stats.droppedMalformed++;
      return;
    }
    pending.nextPart++;
    this.#stats.messagesApplied++;
    if (!message.last) return;
    peer.pendingSync = undefined;
    this.#applySync(peer, pending.version, pending.groups);
  }

  #applySync(peer: Peer, version: number, incoming: ReadonlyMap<Group, readonly Pid[]>): void {
    this.#stats.syncsReceived++;
    // What this peer may hold in our view: its own bound, and what the others leave of the total.
    let room = Math.min(
      this.limits.maxMembershipsPerPeer,
      this.limits.maxRemoteMemberships - (this.#remoteMemberships - peer.view.count),
    );
    let cut = false;
    const touched = new Set<Group>([...peer.groups.keys(), ...incoming.keys()]);
    for (const group of touched) {
      let state = this.#groups.get(group);
      const oldBlock = state === undefined ? [] : state.blockOf(peer.node);
      let newBlock = incoming.get(group) ?? EMPTY_PIDS;
      if (newBlock.length > room) {
        cut = true;
        newBlock = newBlock.slice(0, Math.max(room, 0));
      }
      room -= newBlock.length;
      if (samePidSequence(oldBlock, newBlock)) continue;
      if (state === undefined) {
        if (this.#groups.size >= this.limits.maxGroupsPerScope) {
          this.#stats.droppedOverLimit += newBlock.length;
          room += newBlock.length;
          cut = true;
          continue;
        }
        state = this.#createGroup(group);
      }
      const groupRoom = this.limits.maxMembersPerGroup - (state.size - oldBlock.length);
      if (newBlock.length > groupRoom) {
        this.#stats.droppedOverLimit += newBlock.length - groupRoom;
        room += newBlock.length - Math.max(groupRoom, 0);
        newBlock = newBlock.slice(0, Math.max(groupRoom, 0));
        cut = true;
      }
      const { added, removed } = multisetDiff(oldBlock, newBlock);
      state.replaceBlock(peer.node, newBlock);
      if (newBlock.length > 0) peer.groups.set(group, newBlock.length);
      else peer.groups.delete(group);
      this.#viewChanged(peer, group, added, removed);
      this.#dropIfEmpty(state);
      if (removed.length > 0) this.#emit('leave', group, removed);
      if (added.length > 0) this.#emit('join', group, added);
    }
    peer.synced = true;
    peer.version = version;
    peer.awaitingSync = false;
    peer.discoverDue = false;
    peer.discoverAttempt = 0;
    if (cut) {
      this.#stats.refusedOverPeerLimit++;
      this.#truncated(peer, true);
    } else {
      peer.truncated = false;
      peer.refusing = false;
      peer.truncatedAttempt = 0;
    }
    // A peer whose discover we never saw (it came up before we did) still needs our sync.
    if (!peer.sentSyncSinceUp) peer.syncDue = true;
  }

  /** Our view of `peer` lacks what a limit kept out: stop trusting it, and ask again after a backoff. */
  #truncated(peer: Peer, refuseDeltas: boolean): void {
    if (refuseDeltas) peer.refusing = true;
    const scheduled = peer.truncated && peer.awaitingSync;
    peer.truncated = true;
    // A resync already scheduled (or a discover about to go) stays as it is.
    if (scheduled || (peer.awaitingSync && peer.discoverDue)) return;
    peer.awaitingSync = true;
    peer.discoverDue = false;
    peer.discoverRetryAt =
      this.#now + clampedBackoff(this.timings.blockedRetryMs, this.timings.blockedRetryMaxMs, peer.truncatedAttempt);
    peer.truncatedAttempt++;
  }

  #viewChanged(peer: Peer, group: Group, added: readonly Pid[], removed: readonly Pid[]): void {
    peer.view.change(group, added, 1);
    peer.view.change(group, removed, -1);
    this.#remoteMemberships += added.length - removed.length;
  }

  #digestFor(peer: Peer): PgDigestMessage {
    this.#stats.digestsSent++;
    const d = this.#localDigest;
    return {
      t: 'digest',
      scope: this.scope,
      inc: this.incarnation,
      toInc: peer.incarnation,
      version: this.#version,
      count: d.count,
      h1: d.h1,
      h2: d.h2,
    };
  }

  /**
   * The peer states its local memberships at `version`, sent after its deltas on the same FIFO
   * link: our view must be exactly that. A difference means something was lost: resync.
   */
  #checkDigest(peer: Peer, message: PgDigestMessage): void {
    this.#stats.messagesApplied++;
    // A view being rebuilt (or known short of a limit) has its resync on the way already.
    if (!peer.synced || peer.awaitingSync || peer.pendingSync !== undefined || peer.truncated) return;
    if (message.version === peer.version && peer.view.matches(message.count, message.h1, message.h2)) {
      this.#stats.digestsInSync++;
      return;
    }
    this.#stats.digestMismatches++;
    this.#requestResync(peer);
  }

  #applyDelta(peer: Peer, message: PgDeltaMessage): void {
    if (!peer.synced) {
      this.#stats.droppedUnsynced++;
      return;
    }
    if (message.version <= peer.version) {
      this.#stats.droppedDuplicate++;
      return;
    }
    if (peer.refusing) {
      this.#stats.refusedOverPeerLimit++;
      return;
    }
    if (message.base !== peer.version) {
      // Something between our view and this delta was lost: ask for a full sync.
      this.#stats.droppedGap++;
      this.#requestResync(peer);
      return;
    }
    let joining = 0;
    for (const [kind, , pids] of message.ops) if (kind === 'j') joining += pids.length;
    if (
      peer.view.count + joining > this.limits.maxMembershipsPerPeer ||
      this.#remoteMemberships + joining > this.limits.maxRemoteMemberships
    ) {
      // Past the bound of what we hold for this peer (or for all): refuse, count, resync later.
      this.#stats.refusedOverPeerLimit++;
      this.#truncated(peer, true);
      return;
    }
    this.#stats.messagesApplied++;
    for (const [kind, group, pids] of message.ops) {
      if (kind === 'j') this.#applyRemoteJoin(peer, group, pids);
      else this.#applyRemoteLeave(peer, group, pids);
    }
    peer.version = message.version;
  }

  #applyRemoteJoin(peer: Peer, group: Group, pids: readonly Pid[]): void {
    let state = this.#groups.get(group);
    if (state === undefined) {
      if (this.#groups.size >= this.limits.maxGroupsPerScope) {
        this.#stats.droppedOverLimit += pids.length;
        this.#truncated(peer, false);
        return;
      }
      state = this.#createGroup(group);
    }
    if (state.size + pids.length > this.limits.maxMembersPerGroup) {
      this.#stats.droppedOverLimit += pids.length;
      this.#truncated(peer, false);
      this.#dropIfEmpty(state);
      return;
    }
    const frozen = freezePids(pids);
    state.pushHead(frozen);
    peer.groups.set(group, (peer.groups.get(group) ?? 0) + frozen.length);
    this.#viewChanged(peer, group, frozen, EMPTY_PIDS);
    this.#emit('join', group, frozen);
  }

  #applyRemoteLeave(peer: Peer, group: Group, pids: readonly Pid[]): void {
    const state = this.#groups.get(group);
    const removed: Pid[] = [];
    if (state !== undefined) {
      for (const pid of pids) if (state.removeMostRecent(pid)) removed.push(pid);
    }
    if (removed.length < pids.length) {
      this.#stats.inconsistentRemoteOps++;
      this.#requestResync(peer);
    }
    if (removed.length === 0) return;
    const state_ = state as GroupState;
    const left = (peer.groups.get(group) ?? 0) - removed.length;
    if (left > 0) peer.groups.set(group, left);
    else peer.groups.delete(group);
    this.#viewChanged(peer, group, EMPTY_PIDS, removed);
    this.#dropIfEmpty(state_);
    this.#emit('leave', group, Object.freeze(removed));
  }

  #requestResync(peer: Peer): void {
    if (peer.awaitingSync) return;
    peer.awaitingSync = true;
    peer.discoverDue = true;
  }

  // ------------------------------------------------------------------ internals: shared

  #createGroup(group: Group): GroupState {
    const state = new GroupState(group, this.node);
    this.#groups.set(group, state);
    this.#whichGroups = undefined;
    return state;
  }

  #dropIfEmpty(state: GroupState): void {
    if (state.size > 0) return;
    this.#groups.delete(state.name);
    this.#whichGroups = undefined;
    this.#whichLocalGroups = undefined;
  }

  #emit(kind: 'join' | 'leave', group: Group, pids: readonly Pid[]): void {
    if (!this.#monitors.watching(group)) return;
    const event: PgMembershipEvent = Object.freeze({ kind, group, pids: freezePids(pids) });
    this.#monitors.emit(event);
  }
}
