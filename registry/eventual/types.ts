// Public types of the eventual registry core: options, outputs, events, counters.
import type { Pid } from '../../runtime/base.js';
import type { Random } from '../../runtime/base.js';
import type { RegistryMessage } from './messages.js';

export interface EventualRegistryOptions {
  /** This node's name and incarnation: claims are made for this node's processes only. */
  readonly node: string;
  readonly incarnation: number;
  /** Seeded random source (peer choice for anti-entropy, first round's offset). */
  readonly random: Random;
  readonly maxNamesPerNode?: number;
  readonly maxNamesPerReplica?: number;
  readonly maxDeltaBatchBytes?: number;
  readonly maxAeMessageBytes?: number;
  readonly maxOutboxNames?: number;
  readonly antiEntropyIntervalMs?: number;
  readonly nodeDownGraceMs?: number;
  readonly reapScanPerTick?: number;
  /** Anti-entropy leaves alone a shard changed within this many ms (default AE_QUIET_MS; 0: never). */
  readonly aeQuietMs?: number;
}

/** A change of a name's owner as this replica sees it; events for one name follow its state in order. */
export type WatchEvent =
  | { readonly kind: 'register'; readonly name: string; readonly pid: Pid }
  | { readonly kind: 'unregister'; readonly name: string; readonly pid: Pid };

export type RegistryOutput =
  /** Send `message` on the registry class to each node of `to` (the peers up right now). */
  | { readonly type: 'broadcast'; readonly to: readonly string[]; readonly message: RegistryMessage }
  /** Send `message` on the registry class to one node. */
  | { readonly type: 'send'; readonly to: string; readonly message: RegistryMessage }
  /** Deliver to this node's name watchers. */
  | { readonly type: 'watch'; readonly event: WatchEvent }
  /** Tell local process `pid` that it lost `name` to `winner` (its claim is already removed). */
  | { readonly type: 'lost'; readonly name: string; readonly pid: Pid; readonly winner: Pid };

/** Plain counters (the host exports them as OpenTelemetry counters `troupe.registry.eventual.*`). */
export interface RegistryCounters {
  registrations: number;
  unregistrations: number;
  deltaMessagesSent: number;
  deltaNamesSent: number;
  deltaBytesSent: number;
  deltaMessagesReceived: number;
  /** Names whose state changed by an incoming delta. */
  deltaNamesApplied: number;
  /** Changes dropped from the outbox (full, or a name's group too big); repaired by anti-entropy. */
  outboxDropped: number;
  /** Pending changes discarded because no peer was up (peers sync by anti-entropy on node up). */
  outboxDiscardedNoPeers: number;
  /** Incoming messages that failed validation, dropped. */
  malformedDropped: number;
  /** Incoming messages dropped because they would grow this replica past maxNamesPerReplica. */
  replicaFullDropped: number;
  aeRoundsStarted: number;
  aeInSync: number;
  aeChunksSent: number;
  aeChunksReceived: number;
  /** Names whose state an anti-entropy chunk changed (each one a repair of a lost or late delta). */
  aeRepairs: number;
  /** Differing shards anti-entropy left to their deltas for now (changed within aeQuietMs). */
  aeShardsDeferred: number;
  /** Exchanges cut because they reached MAX_AE_HOPS. */
  aeHopLimitReached: number;
  /** Own claims lost to a better claim (owner told). */
  conflictsLost: number;
  /** Own claims re-added after another node dropped them (e.g. past its node-down grace). */
  reasserted: number;
  /** Claims dropped because their node went down past the grace, or restarted. */
  reapedClaims: number;
  /** Claims of an older node incarnation dropped on arrival. */
  staleIncarnationDropped: number;
  /** Claims of this node under a newer incarnation seen (another process runs as this node). */
  newerSelfSeen: number;
}

export function zeroCounters(): RegistryCounters {
  return {
    registrations: 0,
    unregistrations: 0,
    deltaMessagesSent: 0,
    deltaNamesSent: 0,
    deltaBytesSent: 0,
    deltaMessagesReceived: 0,
    deltaNamesApplied: 0,
    outboxDropped: 0,
    outboxDiscardedNoPeers: 0,
    malformedDropped: 0,
    replicaFullDropped: 0,
    aeRoundsStarted: 0,
    aeInSync: 0,
    aeChunksSent: 0,
    aeChunksReceived: 0,
    aeRepairs: 0,
    aeShardsDeferred: 0,
    aeHopLimitReached: 0,
    conflictsLost: 0,
    reasserted: 0,
    reapedClaims: 0,
    staleIncarnationDropped: 0,
    newerSelfSeen: 0,
  };
}
