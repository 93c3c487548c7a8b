// The eventual registry as a pure replica state machine. Each node runs one core. Inputs are
// method calls (local register/unregister, process exit, node up/down, tick with `now`, an
// incoming message); each returns the outputs it caused, in order. No I/O, no timers, no clock.
//
// State: the replicated claims (a sharded map of ORSWOTs: name -> set of claiming pids), this
// node's own claims, what it knows of other nodes (incarnation, up/down, grace deadline), the
// delta outbox and the cleanup jobs.
//
// Rules:
// - Only a pid's own node adds or removes its claim; a claim's dot is minted by the owner's node
//   incarnation, so "drop node N's claims" is a test on the claims alone.
// - The owner of a name is the best claim present under the total order of claim-order.ts; every
//   replica with the same claims shows the same owner. The loser's own node removes the losing
//   claim and tells its process (exactly once: the own-claim entry is deleted as it is told).
// - A node down past the grace, or restarted (newer incarnation seen in membership or in any
//   claim), has its older claims dropped on every replica, without a broadcast (each replica
//   does it itself; anti-entropy covers stragglers). Those dots stay in the causal context, so
//   the claims never come back. Claims of a node that membership does not show up here (a
//   fresh replica that never saw it, or claims relayed after the reap) start a grace of their
//   own, so the names of a node that died for good always go.
// - If another replica dropped an own claim that is still alive (a partition longer than the
//   grace), the owner's node re-adds it with a fresh dot — unless a better claim is present, in
//   which case it lost.
import type { DecodedChunk, OrswotEntry, KeyChangeListener, KeyDelta, WireChunk } from '../../crdt/index.js';
import {
  ActorTable,
  MAX_ENTRIES_PER_KEY,
  ShardedOrswotMap,
  SHARD_COUNT,
  actorOf,
  differingShards,
  encodeChunk,
  shardOf,
} from '../../crdt/index.js';
import { Pid, decode } from '../../runtime/base.js';
import { isTroupeError, type Random } from '../../runtime/base.js';
import { winningClaim } from './claim-order.js';
import {
  BadRegistryNameError,
  NameTakenError,
  NotLocalPidError,
  NotRegisteredError,
  RegistryConfigError,
  RegistryLimitError,
  RegistryMalformedError,
} from './errors.js';
import {
  AE_QUIET_MS,
  ANTI_ENTROPY_INTERVAL_MS,
  MAX_AE_DEFER_MS,
  MAX_AE_HOPS,
  MAX_AE_MESSAGE_BYTES,
  MAX_DELTA_BATCH_BYTES,
  MAX_NAME_LENGTH,
  MAX_NAMES_PER_NODE,
  MAX_NAMES_PER_REPLICA,
  MAX_OUTBOX_NAMES,
  MAX_REAP_SCAN_PER_TICK,
  MIN_MESSAGE_BUDGET_BYTES,
  NODE_DOWN_GRACE_MS,
} from './limits.js';
import type { ParsedRegistryMessage, ShardCursor, ShardsMessage } from './messages.js';
import { parseRegistryMessage } from './messages.js';
import { DeltaOutbox } from './outbox.js';
import { pidElement } from './pid-element.js';
import type { EventualRegistryOptions, RegistryCounters, RegistryOutput } from './types.js';
import { zeroCounters } from './types.js';

interface PeerState {
  /** Highest incarnation known of this node; claims of older ones are dropped. */
  incarnation: number;
  /** Membership says it is up (only up peers get deltas and anti-entropy). */
  up: boolean;
  /** When down: the time its claims are dropped. */
  graceDeadline: number | undefined;
}

/** Drop claims of `node` with incarnation below `below`, scanning shard by shard. */
interface ReapJob {
  readonly node: string;
  readonly below: number;
  shard: number;
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min)
    throw new RegistryConfigError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

export class EventualRegistryCore {
  readonly node: string;
  readonly incarnation: number;
  readonly counters: RegistryCounters = zeroCounters();

  private readonly actor: string;
  private readonly random: Random;
  private readonly state = new ShardedOrswotMap(pidElement);
  /** name -> own pid holding it (this node's live claims). */
  private readonly own = new Map<string, Pid>();
  /** own pid id -> its names (one string, or several). */
  private readonly ownByPid = new Map<number, string | string[]>();
  private readonly peers = new Map<string, PeerState>();
  private readonly outbox: DeltaOutbox;
  private reapJobs: ReapJob[] = [];
  /** Nodes whose claims arrived while membership did not show them up (their grace starts next tick). */
  private readonly claimsOfDownNodes = new Set<string>();
  private nextAeAt: number | undefined;
  /** The latest `now` an input carried (ticks, membership): the clock of anti-entropy deferral. */
  private now = 0;
  /**
   * Per shard: when it last changed by a delta (ours or a peer's), and since when anti-entropy has
   * left it alone. A shard still changing is being brought in line by its deltas; shipping it
   * whole meanwhile only repeats them. It waits until quiet, or at most MAX_AE_DEFER_MS.
   */
  private readonly shardChangedAt: number[] = new Array<number>(SHARD_COUNT).fill(-Infinity);
  private readonly shardDeferredSince: (number | undefined)[] = new Array<number | undefined>(SHARD_COUNT);
  private aeRoundDeferredSince: number | undefined;

  // Limits (validated options).
  private readonly maxNamesPerNode: number;
  private readonly maxNamesPerReplica: number;
  private readonly maxDeltaBatchBytes: number;
  private readonly maxAeMessageBytes: number;
  private readonly antiEntropyIntervalMs: number;
  private readonly nodeDownGraceMs: number;
  private readonly reapScanPerTick: number;
  private readonly aeQuietMs: number;

  /** A claim of an older incarnation of its node (this node's included): dead. */
  private readonly staleClaim = (e: OrswotEntry<Pid>): boolean => e.value.incarnation < this.floorOf(e.value.node);

  /**
   * Whether inputs produce `watch` outputs. A host with no watcher turns it off, which spares two
   * owner lookups and an event per changed name (a watcher sees changes from when it starts).
   */
  watchEvents = true;

  // Names changed during the current input, with their owner before it (for watch events).
  private readonly touched = new Map<string, Pid | undefined>();
  private readonly listener: KeyChangeListener = {
    before: (key) => {
      if (!this.touched.has(key)) this.touched.set(key, this.watchEvents ? this.whereis(key) : undefined);
    },
    after: () => undefined,
  };

  constructor(options: EventualRegistryOptions) {
    const probe = new Pid(options.node, 0, options.incarnation); // validates node and incarnation
    this.node = probe.node;
    this.incarnation = probe.incarnation;
    this.actor = actorOf(this.node, this.incarnation);
    this.random = options.random;
    this.maxNamesPerNode = positiveInt('maxNamesPerNode', options.maxNamesPerNode, MAX_NAMES_PER_NODE);
    this.maxNamesPerReplica = positiveInt('maxNamesPerReplica', options.maxNamesPerReplica, MAX_NAMES_PER_REPLICA);
    this.maxDeltaBatchBytes = positiveInt(
      'maxDeltaBatchBytes',
      options.maxDeltaBatchBytes,
      MAX_DELTA_BATCH_BYTES,
      MIN_MESSAGE_BUDGET_BYTES,
    );
    this.maxAeMessageBytes = positiveInt(
      'maxAeMessageBytes',
      options.maxAeMessageBytes,
      MAX_AE_MESSAGE_BYTES,
      MIN_MESSAGE_BUDGET_BYTES,
    );
    this.antiEntropyIntervalMs = positiveInt(
      'antiEntropyIntervalMs',
      options.antiEntropyIntervalMs,
      ANTI_ENTROPY_INTERVAL_MS,
    );
    this.nodeDownGraceMs = positiveInt('nodeDownGraceMs', options.nodeDownGraceMs, NODE_DOWN_GRACE_MS, 0);
    this.reapScanPerTick = positiveInt('reapScanPerTick', options.reapScanPerTick, MAX_REAP_SCAN_PER_TICK);
    this.aeQuietMs = positiveInt('aeQuietMs', options.aeQuietMs, AE_QUIET_MS, 0);
    this.outbox = new DeltaOutbox(positiveInt('maxOutboxNames', options.maxOutboxNames, MAX_OUTBOX_NAMES));
  }

  // ---------------------------------------------------------------- reads

  /** The owner of `name` in this replica's view. */
  whereis(name: string): Pid | undefined {
    return winningClaim(name, this.state.values(name));
  }

  /** Every claim present on `name` (more than one only while a conflict is being resolved). */
  claims(name: string): Pid[] {
    return this.state.values(name);
  }

  /** Names with an owner in this replica's view. */
  get size(): number {
    return this.state.size;
  }

  /** name -> owner, for every name (a snapshot; O(names)). */
  view(): Map<string, Pid> {
    const out = new Map<string, Pid>();
    for (const name of this.state.keys()) {
      const owner = this.whereis(name);
      if (owner !== undefined) out.set(name, owner);
    }
    return out;
  }

  /**
   * name -> owner, one name at a time, shard by shard (a lazy walk: O(1) a step, so a host can
   * yield between batches). Names changed during the walk show as they are when reached.
   */
  *owners(): Generator<readonly [string, Pid]> {
    for (const name of this.state.keys()) {
      const owner = this.whereis(name);
      if (owner !== undefined) yield [name, owner];
    }
  }

  /** Names held by this node's processes. */
  ownNames(): Map<string, Pid> {
    return new Map(this.own);
  }

  /** One digest pair per shard (equal digests everywhere means converged). */
  digests(): number[] {
    return this.state.digests();
  }

  /** Changes waiting for the next gossip round. */
  get outboxSize(): number {
    return this.outbox.size;
  }

  /** Dots held out of order (non-zero: some delta is still missing here). */
  cloudSize(): number {
    return this.state.cloudSize();
  }

  /** Peers membership reports up. */
  upPeers(): string[] {
    const out: string[] = [];
    for (const [node, p] of this.peers) if (p.up) out.push(node);
    return out.sort();
  }

  // ---------------------------------------------------------------- local inputs

  /**
   * Register `name` for local process `pid` (the host checked it is alive). Throws NameTakenError
   * when this replica already shows another owner, RegistryLimitError, BadRegistryNameError or
   * NotLocalPidError; nothing changes on a throw. Registering the same pair again is a no-op.
   */
  register(name: string, pid: Pid): RegistryOutput[] {
    this.checkName(name);
    this.checkLocal(pid);
    const mine = this.own.get(name);
    if (mine !== undefined && mine.equals(pid)) return [];
    const owner = this.whereis(name);
    if (owner !== undefined) throw new NameTakenError(name, owner);
    if (this.own.size >= this.maxNamesPerNode) throw new RegistryLimitError('maxNamesPerNode', this.maxNamesPerNode);
    this.listener.before(name);
    this.ship(this.state.add(name, pid, this.actor));
    this.own.set(name, pid);
    this.indexOwn(pid, name);
    this.counters.registrations++;
    return this.settle([]);
  }

  /** Unregister `name`, held by a process of this node (optionally checking it is `pid`). */
  unregister(name: string, pid?: Pid): RegistryOutput[] {
    const mine = this.own.get(name);
    if (mine === undefined || (pid !== undefined && !mine.equals(pid))) throw new NotRegisteredError(name);
    this.dropOwn(name, mine);
    return this.settle([]);
  }

  /** A local process exited: its names go with it. */
  processExited(pid: Pid): RegistryOutput[] {
    if (pid.node !== this.node || pid.incarnation !== this.incarnation) return [];
    const names = this.ownByPid.get(pid.id);
    if (names === undefined) return [];
    for (const name of typeof names === 'string' ? [names] : [...names]) {
      const mine = this.own.get(name);
      if (mine !== undefined && mine.equals(pid)) this.dropOwn(name, mine);
    }
    return this.settle([]);
  }

  // ---------------------------------------------------------------- membership and time

  /**
   * Membership saw `node` (at `incarnation`) come up. A newer incarnation drops the older one's
   * claims; the same incarnation cancels a pending grace. Starts an anti-entropy exchange with it.
   */
  nodeUp(node: string, incarnation: number, now: number): RegistryOutput[] {
    this.advance(now);
    if (node === this.node) return [];
    const peer = this.peerOf(node);
    if (incarnation < peer.incarnation) return [];
    if (incarnation > peer.incarnation) this.learnIncarnation(node, incarnation);
    // same life: cancel a grace reap
    else this.reapJobs = this.reapJobs.filter((j) => !(j.node === node && j.below > incarnation));
    peer.up = true;
    peer.graceDeadline = undefined;
    const out: RegistryOutput[] = [{ type: 'send', to: node, message: { t: 'ae-digest', g: this.state.digests() } }];
    this.counters.aeRoundsStarted++;
    return out;
  }

  /** Membership declared `node` down: its claims are dropped at `now + grace` unless it comes back. */
  nodeDown(node: string, now: number): RegistryOutput[] {
    this.advance(now);
    if (node === this.node) return [];
    const peer = this.peerOf(node);
    if (!peer.up) return [];
    peer.up = false;
    peer.graceDeadline = now + this.nodeDownGraceMs;
    return [];
  }

  /**
   * One gossip round (call every GOSSIP_INTERVAL_MS or so): drops claims of nodes down past the
   * grace (a chunk per tick), starts anti-entropy when due, and broadcasts one budget's worth of
   * pending deltas.
   */
  tick(now: number): RegistryOutput[] {
    this.advance(now);
    const out: RegistryOutput[] = [];
    // Claims of a node not up here (never seen, or already reaped once and now relayed by a
    // peer that saw them later) get a grace of their own, so a dead node's names always go.
    for (const node of this.claimsOfDownNodes) {
      const peer = this.peerOf(node);
      if (!peer.up && peer.graceDeadline === undefined) peer.graceDeadline = now + this.nodeDownGraceMs;
    }
    this.claimsOfDownNodes.clear();
    for (const [node, peer] of this.peers) {
      if (!peer.up && peer.graceDeadline !== undefined && now >= peer.graceDeadline) {
        peer.graceDeadline = undefined;
        this.reapJobs.push({ node, below: peer.incarnation + 1, shard: 0 });
      }
    }
    this.runReapJobs();
    this.settle(out);
    this.nextAeAt ??= now + this.random.int(this.antiEntropyIntervalMs);
    if (now >= this.nextAeAt && this.mayStartAeRound(now)) {
      this.nextAeAt = now + this.antiEntropyIntervalMs;
      const peers = this.upPeers();
      if (peers.length > 0) {
        this.counters.aeRoundsStarted++;
        out.push({ type: 'send', to: this.random.pick(peers), message: { t: 'ae-digest', g: this.state.digests() } });
      }
    }
    this.flushOutbox(out);
    return out;
  }

  // ---------------------------------------------------------------- incoming messages

  /** A message from `from` on the registry class (untrusted: validated, malformed is counted and dropped). */
  receive(from: string, raw: unknown): RegistryOutput[] {
    let msg: ParsedRegistryMessage;
    try {
      // A host sends each message encoded once (a broadcast goes to every peer as the same bytes).
      msg = parseRegistryMessage(raw instanceof Uint8Array ? decode(raw) : raw, from);
    } catch (err) {
      if (err instanceof RegistryMalformedError || isTroupeError(err, 'ERR_DECODE')) {
        this.counters.malformedDropped++;
        return [];
      }
      throw err;
    }
    switch (msg.t) {
      case 'delta':
        return this.onDelta(msg.deltas);
      case 'ae-digest':
        return this.onDigest(from, msg.digests);
      case 'ae-shards':
        return this.onShards(from, msg);
    }
  }

  private onDelta(deltas: readonly KeyDelta<Pid>[]): RegistryOutput[] {
    this.counters.deltaMessagesReceived++;
    if (!this.admit(deltas.map((d) => d.key))) return [];
    for (const d of deltas) this.learnFromClaims(d.entries.map((e) => e.value));
    for (const d of deltas) {
      this.shardChangedAt[shardOf(d.key)] = this.now;
      if (this.state.applyDelta(d, this.listener)) this.counters.deltaNamesApplied++;
    }
    return this.settle([]);
  }

  private onDigest(from: string, theirs: number[]): RegistryOutput[] {
    const mine = this.state.digests();
    const differing = differingShards(mine, theirs);
    if (differing.length === 0) {
      this.counters.aeInSync++;
      return [];
    }
    const diff = this.quietShards(differing);
    if (diff.length === 0) return [];
    // Start at a random differing shard: an exchange cut short (hop limit, loss) must not always
    // spend its budget on the same first shards.
    const start = this.random.int(diff.length);
    const order = [...diff.slice(start), ...diff.slice(0, start)];
    const reply = this.buildShards(
      1,
      order.map((s): ShardCursor => [s, null]),
      mine,
      [],
    );
    return [{ type: 'send', to: from, message: reply }];
  }

  private onShards(from: string, msg: Extract<ParsedRegistryMessage, { t: 'ae-shards' }>): RegistryOutput[] {
    this.counters.aeChunksReceived += msg.chunks.length;
    const keys: string[] = [];
    for (const c of msg.chunks) for (const k of c.chunk.keys.keys()) keys.push(k);
    const out: RegistryOutput[] = [];
    if (this.admit(keys)) {
      for (const c of msg.chunks)
        this.learnFromClaims([...c.chunk.keys.values()].flatMap((es) => es.map((e) => e.value)));
      for (const c of msg.chunks) this.joinChunk(c);
      this.settle(out);
    }
    if (msg.hops >= MAX_AE_HOPS) {
      this.counters.aeHopLimitReached++;
      return out;
    }
    const serve: ShardCursor[] = [...msg.pulls];
    if (msg.digests !== null) {
      const pending = new Set(msg.more.map(([s]) => s));
      const served = new Set(serve.map(([s]) => s));
      const diff = this.quietShards(
        differingShards(this.state.digests(), msg.digests).filter((s) => !pending.has(s) && !served.has(s)),
      );
      const start = diff.length === 0 ? 0 : this.random.int(diff.length);
      for (const s of [...diff.slice(start), ...diff.slice(0, start)]) serve.push([s, null]);
    }
    if (serve.length === 0 && msg.more.length === 0) return out;
    out.push({ type: 'send', to: from, message: this.buildShards(msg.hops + 1, serve, null, msg.more) });
    return out;
  }

  private joinChunk(c: DecodedChunk<Pid>): void {
    const before = this.touched.size;
    this.state.joinChunk(c.shard, c.chunk, this.listener);
    this.counters.aeRepairs += this.touched.size - before;
  }

  /** Chunks for `cursors` within the AE budget; what does not fit goes back as `n` (pull me). */
  private buildShards(
    hops: number,
    cursors: readonly ShardCursor[],
    digests: number[] | null,
    pulls: ShardCursor[],
  ): ShardsMessage {
    const table = new ActorTable();
    const chunks: WireChunk[] = [];
    const more: ShardCursor[] = [];
    // Fixed overhead: map header, tags, digests (when sent), pull list.
    let used = 64 + (digests === null ? 0 : digests.length * 5) + pulls.length * (8 + 3 * MAX_NAME_LENGTH);
    for (const [shard, from] of cursors) {
      const ctx = this.state.shard(shard).ctx;
      // Upper bound: 12 bytes per dot, plus each actor's name in the table.
      let ctxBytes = 16 + ctx.cloudSize() * 12;
      for (const a of ctx.vv.keys()) ctxBytes += 12 + a.length + 3;
      if (ctx.cloud !== undefined) for (const a of ctx.cloud.keys()) ctxBytes += a.length + 3;
      const room = this.maxAeMessageBytes - used - ctxBytes - 32;
      if (chunks.length > 0 && room < 1024) {
        more.push([shard, from]);
        continue;
      }
      const chunk = this.state.cutChunk(shard, from, Math.max(room, 1));
      chunks.push(encodeChunk(shard, chunk, table, pidElement));
      for (const k of chunk.keys.keys()) used += this.state.shard(shard).keyWireSize(k);
      used += ctxBytes + 32;
      if (chunk.to !== null) more.push([shard, chunk.to]);
    }
    this.counters.aeChunksSent += chunks.length;
    return { t: 'ae-shards', h: hops, a: table.list, c: chunks, g: digests, p: pulls, n: more };
  }

  // ---------------------------------------------------------------- internals

  private checkName(name: unknown): asserts name is string {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH)
      throw new BadRegistryNameError(name, MAX_NAME_LENGTH);
  }

  private checkLocal(pid: unknown): asserts pid is Pid {
    if (!(pid instanceof Pid) || pid.node !== this.node || pid.incarnation !== this.incarnation)
      throw new NotLocalPidError(pid, this.node, this.incarnation);
  }

  private peerOf(node: string): PeerState {
    let p = this.peers.get(node);
    if (p === undefined) {
      p = { incarnation: 0, up: false, graceDeadline: undefined };
      this.peers.set(node, p);
    }
    return p;
  }

  private floorOf(node: string): number {
    return node === this.node ? this.incarnation : (this.peers.get(node)?.incarnation ?? 0);
  }

  /** A newer incarnation of `node` exists: its older claims are dead. */
  private learnIncarnation(node: string, incarnation: number): void {
    const peer = this.peerOf(node);
    if (incarnation <= peer.incarnation) return;
    peer.incarnation = incarnation;
    this.reapJobs.push({ node, below: incarnation, shard: 0 });
  }

  private learnFromClaims(pids: readonly Pid[]): void {
    for (const pid of pids) {
      if (pid.node === this.node) {
        if (pid.incarnation > this.incarnation) this.counters.newerSelfSeen++;
      } else {
        if (pid.incarnation > this.floorOf(pid.node)) this.learnIncarnation(pid.node, pid.incarnation);
        if (this.peers.get(pid.node)?.up !== true) this.claimsOfDownNodes.add(pid.node);
      }
    }
  }

  /** False (and counted) when applying these names would grow the replica past its limit. */
  private admit(keys: readonly string[]): boolean {
    if (this.state.size + keys.length <= this.maxNamesPerReplica) return true;
    let fresh = 0;
    for (const k of keys) if (this.state.values(k).length === 0) fresh++;
    if (this.state.size + fresh <= this.maxNamesPerReplica) return true;
    this.counters.replicaFullDropped++;
    return false;
  }

  private indexOwn(pid: Pid, name: string): void {
    const names = this.ownByPid.get(pid.id);
    if (names === undefined) this.ownByPid.set(pid.id, name);
    else if (typeof names === 'string') this.ownByPid.set(pid.id, [names, name]);
    else names.push(name);
  }

  private unindexOwn(pid: Pid, name: string): void {
    const names = this.ownByPid.get(pid.id);
    if (names === undefined) return;
    if (typeof names === 'string') {
      if (names === name) this.ownByPid.delete(pid.id);
      return;
    }
    const rest = names.filter((n) => n !== name);
    if (rest.length === 0) this.ownByPid.delete(pid.id);
    else this.ownByPid.set(pid.id, rest.length === 1 ? (rest[0] as string) : rest);
  }

  private dropOwn(name: string, pid: Pid): void {
    this.listener.before(name);
    this.own.delete(name);
    this.unindexOwn(pid, name);
    const d = this.state.remove(name, pid);
    if (d !== undefined) this.ship(d);
    this.counters.unregistrations++;
  }

  private advance(now: number): void {
    if (now > this.now) this.now = now;
  }

  /** The shards of `shards` that anti-entropy may ship now: quiet ones, and ones deferred too long. */
  private quietShards(shards: readonly number[]): number[] {
    const out: number[] = [];
    for (const s of shards) {
      const since = this.shardDeferredSince[s];
      if (
        this.now - (this.shardChangedAt[s] as number) >= this.aeQuietMs ||
        (since !== undefined && this.now - since >= MAX_AE_DEFER_MS)
      ) {
        this.shardDeferredSince[s] = undefined;
        out.push(s);
      } else {
        this.shardDeferredSince[s] ??= this.now;
        this.counters.aeShardsDeferred++;
      }
    }
    return out;
  }

  /** A round waits while our own deltas still go out (they are what the peer lacks), up to MAX_AE_DEFER_MS. */
  private mayStartAeRound(now: number): boolean {
    if (this.outbox.size === 0) {
      this.aeRoundDeferredSince = undefined;
      return true;
    }
    this.aeRoundDeferredSince ??= now;
    if (now - this.aeRoundDeferredSince < MAX_AE_DEFER_MS) return false;
    this.aeRoundDeferredSince = undefined;
    return true;
  }

  private ship(delta: KeyDelta<Pid>): void {
    this.shardChangedAt[shardOf(delta.key)] = this.now;
    if (!this.outbox.push(delta)) this.counters.outboxDropped++;
  }

  private flushOutbox(out: RegistryOutput[]): void {
    const peers = this.upPeers();
    if (peers.length === 0) {
      this.counters.outboxDiscardedNoPeers += this.outbox.clear();
      return;
    }
    const batch = this.outbox.drain(this.maxDeltaBatchBytes);
    if (batch === undefined) return;
    this.counters.deltaMessagesSent++;
    this.counters.deltaNamesSent += batch.names;
    this.counters.deltaBytesSent += batch.bytes;
    out.push({ type: 'broadcast', to: peers, message: batch.message });
  }

  private runReapJobs(): void {
    let budget = this.reapScanPerTick;
    while (budget > 0 && this.reapJobs.length > 0) {
      const job = this.reapJobs[0] as ReapJob;
      const shard = this.state.shard(job.shard);
      const dead = (pid: Pid): boolean => pid.node === job.node && pid.incarnation < job.below;
      budget -= Math.max(1, shard.size);
      const names: string[] = [];
      for (const name of shard.keys()) if (shard.entries(name).some((e) => dead(e.value))) names.push(name);
      for (const name of names) {
        this.listener.before(name);
        const removed = shard.removeWhere(name, (e) => dead(e.value));
        this.counters.reapedClaims += removed?.removed.length ?? 0;
      }
      job.shard++;
      if (job.shard >= this.state.shards.length) this.reapJobs.shift();
    }
  }

  /**
   * Finish an input: drop stale-incarnation claims on the changed names, resolve own claims
   * (lost / re-assert), then emit one watch event per net owner change, in order.
   */
  private settle(out: RegistryOutput[]): RegistryOutput[] {
    for (const name of this.touched.keys()) {
      const stale = this.state.removeWhere(name, this.staleClaim);
      if (stale !== undefined) this.counters.staleIncarnationDropped += stale.removed.length;
      this.resolveOwn(name, out);
    }
    for (const [name, before] of this.watchEvents ? this.touched : []) {
      const after = this.whereis(name);
      if (before !== undefined && after !== undefined && before.equals(after)) continue;
      if (before !== undefined) out.push({ type: 'watch', event: { kind: 'unregister', name, pid: before } });
      if (after !== undefined) out.push({ type: 'watch', event: { kind: 'register', name, pid: after } });
    }
    this.touched.clear();
    return out;
  }

  private resolveOwn(name: string, out: RegistryOutput[]): void {
    const mine = this.own.get(name);
    if (mine === undefined) return;
    const present = this.state.values(name);
    const holds = present.some((p) => p.equals(mine));
    const best = winningClaim(name, holds ? present : [...present, mine]) as Pid;
    // (A re-add needs room under MAX_ENTRIES_PER_KEY; without it the claim counts as lost.)
    if (best.equals(mine) && (holds || present.length < MAX_ENTRIES_PER_KEY)) {
      if (!holds) {
        // Another replica dropped our live claim (e.g. we were down past its grace): re-add it.
        this.ship(this.state.add(name, mine, this.actor));
        this.counters.reasserted++;
      }
      return;
    }
    this.own.delete(name);
    this.unindexOwn(mine, name);
    if (holds) {
      const d = this.state.remove(name, mine);
      if (d !== undefined) this.ship(d);
    }
    this.counters.conflictsLost++;
    const winner = best.equals(mine) ? (winningClaim(name, present) as Pid) : best;
    out.push({ type: 'lost', name, pid: mine, winner });
  }
}
