// The data the engine speaks: entries, membership, hard state, snapshots, messages between
// nodes, the inputs a host steps in and the outputs (Ready) it takes out. Everything is plain
// data so a host can encode it with msgpack and a simulation can print it.

/** A node's identity inside a raft group. Opaque to the engine; compared with ===. */
export type NodeId = string;

/** The voters and learners of a group. A node is in at most one of the two lists. */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

interface EntryBase {
  readonly term: number;
  readonly index: number;
}
/** A command from a client: opaque bytes for the state machine. */
export interface NormalEntry extends EntryBase {
  readonly kind: 'normal';
  readonly data: Uint8Array;
}
/** Appended by every new leader so it can commit an entry of its own term at once. */
export interface NoopEntry extends EntryBase {
  readonly kind: 'noop';
}
/** The whole membership after a single-server change; it takes effect when appended. */
export interface ConfigEntry extends EntryBase {
  readonly kind: 'config';
  readonly membership: Membership;
}
export type Entry = NormalEntry | NoopEntry | ConfigEntry;

/** State that must be durable before the engine may promise anything based on it. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** Membership in force at `index`. */
  readonly membership: Membership;
}

/** A state machine image, opaque to the engine. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** Identifies a read request; chosen by the host, echoed back in a ReadState. */
export type ReadId = string | number;

// ---- messages between nodes --------------------------------------------------------------

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}
export interface AppendMessage extends MessageBase {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}
export interface AppendResponse extends MessageBase {
  readonly type: 'appendResp';
  /** True when the follower's log does not match at `index` (the leader's prevIndex). */
  readonly reject: boolean;
  /** Accepted: last index now known to match. Rejected: the prevIndex that failed. */
  readonly index: number;
  /** Rejected: the follower's best guess of a matching index (fast backtracking). */
  readonly hintIndex: number;
  /** Rejected: the follower's term at hintIndex. */
  readonly hintTerm: number;
}
export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  /** Heartbeat round (each broadcast is one); answering it confirms the leader for reads and leases. */
  readonly readSeq: number;
}
export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResp';
  readonly readSeq: number;
}
export interface VoteMessage extends MessageBase {
  readonly type: 'vote';
  /** A pre-vote asks "would you vote for me at `term`?" without anyone changing term. */
  readonly pre: boolean;
  /** Sent by a leadership transfer: voters grant it even while they hear a live leader. */
  readonly transfer: boolean;
  readonly lastIndex: number;
  readonly lastTerm: number;
}
export interface VoteResponse extends MessageBase {
  readonly type: 'voteResp';
  readonly pre: boolean;
  readonly granted: boolean;
}
export interface SnapshotMessage extends MessageBase {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}
export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeoutNow';
}
/** A follower asking the leader for a read index on behalf of its host. */
export interface ReadIndexMessage extends MessageBase {
  readonly type: 'readIndex';
  readonly readId: ReadId;
}
export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResp';
  readonly readId: ReadId;
  readonly index: number;
}

export type Message =
  | AppendMessage
  | AppendResponse
  | HeartbeatMessage
  | HeartbeatResponse
  | VoteMessage
  | VoteResponse
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponse;

export type MessageType = Message['type'];

// ---- inputs ------------------------------------------------------------------------------

export type ConfigChange =
  | { readonly type: 'addVoter'; readonly id: NodeId }
  | { readonly type: 'addLearner'; readonly id: NodeId }
  | { readonly type: 'removeNode'; readonly id: NodeId };

export type Input =
  /** One logical clock tick. Election and heartbeat timeouts are counted in ticks. */
  | { readonly type: 'tick' }
  /** A message from a peer (untrusted: checked before use). */
  | { readonly type: 'message'; readonly message: Message }
  /** A batch of commands; only the leader accepts them. */
  | { readonly type: 'propose'; readonly commands: readonly Uint8Array[] }
  /** Ask for a linearizable read index (leader or follower). */
  | { readonly type: 'readIndex'; readonly readId: ReadId }
  | { readonly type: 'changeConfig'; readonly change: ConfigChange }
  | { readonly type: 'transferLeadership'; readonly to: NodeId }
  /** Start an election now (tests, operators). Respects pre-vote. */
  | { readonly type: 'campaign' }
  /** Writes up to and including `writeId` are durable. Report in order. */
  | { readonly type: 'persisted'; readonly writeId: number }
  /** The state machine has applied everything up to `index` (entries or an installed snapshot). */
  | { readonly type: 'applied'; readonly index: number }
  /** The host installed a snapshot it was handed (same as applied up to its index). */
  | { readonly type: 'snapshotInstalled'; readonly index: number }
  /** The host took (and stored) a snapshot of its state machine at `index` (<= applied). */
  | { readonly type: 'snapshotTaken'; readonly index: number; readonly data: Uint8Array }
  /** The transport could not reach `peer`: stop pipelining to it and probe. */
  | { readonly type: 'unreachable'; readonly peer: NodeId };

// ---- outputs -----------------------------------------------------------------------------

/**
 * One write for the host's log store. Apply in this order: if `snapshot` is set, replace the
 * stored log with it; if `entries` is non-empty, delete stored entries from `entries[0].index`
 * on and append these; if `hardState` is set, store it. Writes must become durable in id order;
 * then step `{type:'persisted', writeId: id}`.
 */
export interface Write {
  readonly id: number;
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

/** A confirmed read: once `applied >= index`, reading the state machine is linearizable. */
export interface ReadState {
  readonly readId: ReadId;
  readonly index: number;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export type RaftEvent =
  | { readonly type: 'role'; readonly role: Role; readonly term: number; readonly leader: NodeId | null }
  | { readonly type: 'leader'; readonly term: number; readonly leader: NodeId | null }
  /** Term or vote changed (to be made durable by the next write). */
  | { readonly type: 'term'; readonly term: number; readonly vote: NodeId | null }
  | { readonly type: 'commit'; readonly index: number }
  | { readonly type: 'membership'; readonly index: number; readonly membership: Membership }
  | { readonly type: 'snapshotRestored'; readonly index: number; readonly term: number }
  | { readonly type: 'compacted'; readonly snapshotIndex: number; readonly firstIndex: number }
  | { readonly type: 'progress'; readonly peer: NodeId; readonly state: ProgressState }
  | {
      readonly type: 'transfer';
      readonly to: NodeId;
      readonly outcome: 'started' | 'timeoutNowSent' | 'completed' | 'aborted';
    }
  | { readonly type: 'stepDown'; readonly reason: 'checkQuorum' | 'removed' | 'higherTerm' }
  | { readonly type: 'dropped'; readonly what: string; readonly reason: string };

/**
 * Everything the host must do, taken at once with `node.ready()`. Do all of it:
 * 1. start `write` (if any) on the log store; report `persisted` when it is durable;
 * 2. send `messages` (they never depend on an unfinished write: the engine holds back votes
 *    and acknowledgements until the state they promise is durable);
 * 3. if `snapshot` is set, restore the state machine from it; then apply `entries` in order;
 *    report `applied`;
 * 4. answer reads in `readStates` once applied >= their index; fail `readsDropped` at once.
 */
export interface Ready {
  readonly write: Write | null;
  readonly messages: readonly Message[];
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly readsDropped: readonly ReadId[];
  readonly events: readonly RaftEvent[];
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface RaftPeerStatus {
  readonly id: NodeId;
  readonly voter: boolean;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly inflightMessages: number;
  readonly inflightBytes: number;
  readonly recentActive: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly commit: number;
  /** Last index the host reported applied. */
  readonly applied: number;
  /** Last index handed to the host for applying. */
  readonly handedOut: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly durableIndex: number;
  readonly snapshotIndex: number;
  readonly membership: Membership;
  readonly transferee: NodeId | null;
  readonly uncommittedBytes: number;
  readonly pendingReads: number;
  /** Present on the leader only. */
  readonly peers: readonly RaftPeerStatus[];
}

/** What the host's storage held at start (all of it durable). Empty for a fresh node. */
export interface InitialState {
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot | null;
  /** Entries after the snapshot, in order (older ones are ignored). */
  readonly entries?: readonly Entry[];
  /** Index the state machine has applied (>= snapshot index). */
  readonly applied?: number;
}
