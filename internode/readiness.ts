// Cluster readiness as a pure state machine: has this node reached enough of the expected
// cluster to bootstrap (e.g. a Raft group), or has it given up? No timers, no clock reads, no
// I/O: the host passes `now` (ms, monotonic) into every input and reads the transitions back.
//
//   Initial ──start──▶ Pinging ──first response──▶ Collecting ─quorum met─▶ Bootstrapped
//                         │                            │
//                         └──ping deadline──▶ TimedOut ◀──collect deadline──┘
//
// Precisely (docs/readiness.md has the full state table):
// - Pinging: contacting seeds, until the first expected peer responds (→ Collecting), or the
//   ping deadline (start + pingTimeoutMs) passes (→ TimedOut).
// - Collecting: gathering responses until the quorum policy is met (→ Bootstrapped) or the
//   collect deadline (entry into Collecting + collectTimeoutMs) passes (→ TimedOut). A lost peer
//   leaves the count; losing every peer does not go back to Pinging, so the whole run is bounded
//   by pingTimeoutMs + collectTimeoutMs.
// - Time first: every input first checks the deadline at its `now`, then acts. A response at
//   or after the deadline therefore finds the machine TimedOut, whether or not a tick ran.
// - Bootstrapped and TimedOut are terminal: every input is a no-op there (never an error).
// - Responses and losses before `start` are remembered, so nothing accepted is lost.
// - Time going backwards (before a terminal state) is a typed error and changes nothing.
import { TroupeError } from '../runtime/base.js';
import { MAX_NODE_NAME_LENGTH, validateNodeName } from '../runtime/base.js';

/** Default time to reach a first peer. */
export const DEFAULT_PING_TIMEOUT_MS = 10_000;
/** Default time, from the first response, to reach the quorum. */
export const DEFAULT_COLLECT_TIMEOUT_MS = 30_000;
/** Smallest and largest timeout accepted. */
export const MIN_READINESS_TIMEOUT_MS = 1;
export const MAX_READINESS_TIMEOUT_MS = 24 * 3_600_000;
/** Most expected peers one readiness machine accepts. */
export const MAX_EXPECTED_PEERS = 1_024;

export type ReadinessState = 'Initial' | 'Pinging' | 'Collecting' | 'Bootstrapped' | 'TimedOut';

/** 'all' expected members, a strict 'majority' of them, or at least n of them. */
export type QuorumPolicy = 'all' | 'majority' | { readonly atLeast: number };

export type TransitionReason =
  /** Initial → Pinging. */
  | 'started'
  /** Pinging → Collecting: an expected peer responded (possibly before start). */
  | 'first-response'
  /** Pinging → Collecting: the quorum needs no peer at all (self alone is enough). */
  | 'no-peer-needed'
  /** Collecting → Bootstrapped. */
  | 'quorum-met'
  /** Pinging → TimedOut. */
  | 'ping-timeout'
  /** Collecting → TimedOut. */
  | 'collect-timeout';

export interface ReadinessTransition {
  readonly from: ReadinessState;
  readonly to: ReadinessState;
  readonly at: number;
  readonly reason: TransitionReason;
  /** Expected peers counted as responded at the moment of the transition, sorted (self excluded). */
  readonly responded: readonly string[];
}

/** The edges of the state graph; nothing else is ever emitted. */
export const READINESS_EDGES: readonly (readonly [ReadinessState, ReadinessState])[] = Object.freeze([
  ['Initial', 'Pinging'],
  ['Pinging', 'Collecting'],
  ['Pinging', 'TimedOut'],
  ['Collecting', 'Bootstrapped'],
  ['Collecting', 'TimedOut'],
]);

export interface ReadinessOptions {
  /** Names of the other nodes expected in the cluster. If `self` is listed, it is dropped. */
  readonly expectedPeers: readonly string[];
  /** This node's name: when given, it counts as one member that has always responded. */
  readonly self?: string;
  /** Default 'majority'. */
  readonly quorum?: QuorumPolicy;
  readonly pingTimeoutMs?: number;
  readonly collectTimeoutMs?: number;
}

export interface ReadinessConfig {
  /** Expected peers, sorted, without self. */
  readonly expectedPeers: readonly string[];
  readonly self: string | undefined;
  readonly quorum: QuorumPolicy;
  /** Members counted by the policy: the peers, plus one for self. */
  readonly members: number;
  /** Responders (self included) needed to bootstrap. */
  readonly required: number;
  readonly pingTimeoutMs: number;
  readonly collectTimeoutMs: number;
}

export type ReadinessErrorKind = 'bad-config' | 'bad-input' | 'time-backwards';

/** Every error the machine raises on purpose. Nothing changed when one is thrown. */
export class ReadinessError extends TroupeError {
  readonly kind: ReadinessErrorKind;
  constructor(kind: ReadinessErrorKind, message: string) {
    super('ERR_BAD_ARGUMENT', `readiness: ${message}`);
    this.name = 'ReadinessError';
    this.kind = kind;
  }
}

/** Inputs accepted but without effect, counted. */
export interface ReadinessStats {
  /** peerResponded/peerLost naming self or a node not in expectedPeers. */
  unknownPeer: number;
  /** Any input received in Bootstrapped or TimedOut. */
  ignoredAfterEnd: number;
  /** start received after the machine had started. */
  repeatedStart: number;
}

/** Responders (self included) a policy needs out of `members`. */
export function quorumSize(policy: QuorumPolicy, members: number): number {
  if (policy === 'all') return members;
  if (policy === 'majority') return Math.floor(members / 2) + 1;
  return policy.atLeast;
}

function checkTimeout(name: string, value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < MIN_READINESS_TIMEOUT_MS ||
    value > MAX_READINESS_TIMEOUT_MS
  ) {
    throw new ReadinessError(
      'bad-config',
      `${name} must be an integer in ${MIN_READINESS_TIMEOUT_MS}..${MAX_READINESS_TIMEOUT_MS}, got ${String(value)}`,
    );
  }
  return value;
}

function checkName(what: string, name: unknown): string {
  try {
    return validateNodeName(name);
  } catch {
    throw new ReadinessError(
      'bad-config',
      `${what} ${JSON.stringify(name)} is not a valid node name (1-${MAX_NODE_NAME_LENGTH} chars of [A-Za-z0-9_@.:-])`,
    );
  }
}

/** Resolve and validate options; throws ReadinessError('bad-config') on any bad value. */
export function resolveReadinessConfig(options: ReadinessOptions): ReadinessConfig {
  if (typeof options !== 'object' || options === null)
    throw new ReadinessError('bad-config', 'options must be an object');
  const self = options.self === undefined ? undefined : checkName('self', options.self);
  if (!Array.isArray(options.expectedPeers))
    throw new ReadinessError('bad-config', 'expectedPeers must be an array of node names');
  if (options.expectedPeers.length > MAX_EXPECTED_PEERS) {
    throw new ReadinessError(
      'bad-config',
      `expectedPeers holds ${options.expectedPeers.length} names (MAX_EXPECTED_PEERS = ${MAX_EXPECTED_PEERS})`,
    );
  }
  const peers = new Set<string>();
  for (const raw of options.expectedPeers as readonly unknown[]) {
    const name = checkName('expected peer', raw);
    if (name === self) continue;
    if (peers.has(name)) throw new ReadinessError('bad-config', `expected peer ${name} is listed twice`);
    peers.add(name);
  }
  const members = peers.size + (self === undefined ? 0 : 1);
  if (members === 0) throw new ReadinessError('bad-config', 'no member to count: give expectedPeers, self, or both');
  const quorum = options.quorum === undefined ? 'majority' : options.quorum;
  if (quorum !== 'all' && quorum !== 'majority') {
    const atLeast =
      typeof quorum === 'object' && quorum !== null ? (quorum as { atLeast?: unknown }).atLeast : undefined;
    if (typeof atLeast !== 'number' || !Number.isInteger(atLeast) || atLeast < 1 || atLeast > members) {
      throw new ReadinessError(
        'bad-config',
        `quorum must be 'all', 'majority' or { atLeast: n } with n an integer in 1..${members}, ` +
          `got ${JSON.stringify(quorum)}`,
      );
    }
  }
  const pingTimeoutMs = checkTimeout(
    'pingTimeoutMs',
    options.pingTimeoutMs === undefined ? DEFAULT_PING_TIMEOUT_MS : options.pingTimeoutMs,
  );
  const collectTimeoutMs = checkTimeout(
    'collectTimeoutMs',
    options.collectTimeoutMs === undefined ? DEFAULT_COLLECT_TIMEOUT_MS : options.collectTimeoutMs,
  );
  return Object.freeze({
    expectedPeers: Object.freeze([...peers].sort()),
    self,
    quorum: typeof quorum === 'string' ? quorum : Object.freeze({ atLeast: quorum.atLeast }),
    members,
    required: quorumSize(quorum, members),
    pingTimeoutMs,
    collectTimeoutMs,
  });
}

const NONE: readonly ReadinessTransition[] = Object.freeze([]);
const MAX_TRANSITIONS = 3; // Initial → Pinging → Collecting → Bootstrapped is the longest path.

export class ReadinessMachine {
  readonly config: ReadinessConfig;
  #state: ReadinessState = 'Initial';
  #now = Number.NEGATIVE_INFINITY;
  #deadline = Number.POSITIVE_INFINITY;
  readonly #expected: ReadonlySet<string>;
  readonly #responded = new Set<string>();
  #quorumPeers: readonly string[] | undefined;
  readonly #history: ReadinessTransition[] = [];
  readonly #stats: ReadinessStats = { unknownPeer: 0, ignoredAfterEnd: 0, repeatedStart: 0 };

  constructor(options: ReadinessOptions) {
    this.config = resolveReadinessConfig(options);
    this.#expected = new Set(this.config.expectedPeers);
  }

  get state(): ReadinessState {
    return this.#state;
  }

  /** True in Bootstrapped or TimedOut. */
  get done(): boolean {
    return this.#state === 'Bootstrapped' || this.#state === 'TimedOut';
  }

  /** Every transition so far, in order (at most 3). */
  get history(): readonly ReadinessTransition[] {
    return [...this.#history];
  }

  /** Expected peers currently counted as responded, sorted (self excluded). */
  get responded(): readonly string[] {
    return [...this.#responded].sort();
  }

  /** In Bootstrapped: the peers (sorted, self excluded) that formed the quorum. Else undefined. */
  get quorumPeers(): readonly string[] | undefined {
    return this.#quorumPeers;
  }

  /** When the current phase times out (Pinging, Collecting), else undefined. */
  get deadline(): number | undefined {
    return this.#state === 'Pinging' || this.#state === 'Collecting' ? this.#deadline : undefined;
  }

  get stats(): Readonly<ReadinessStats> {
    return { ...this.#stats };
  }

  /** Responders counted toward the quorum now (self included). */
  get count(): number {
    return this.#responded.size + (this.config.self === undefined ? 0 : 1);
  }

  /** Begin: the host starts dialing seeds now. */
  start(now: number): readonly ReadinessTransition[] {
    if (this.#ignoredAfterEnd()) return NONE;
    this.#advance(now);
    if (this.#state !== 'Initial') {
      this.#stats.repeatedStart++;
      return this.#expire(now);
    }
    const out: ReadinessTransition[] = [];
    this.#deadline = now + this.config.pingTimeoutMs;
    this.#go(out, 'Pinging', now, 'started');
    if (this.#responded.size > 0) this.#collect(out, now, 'first-response');
    else if (this.count >= this.config.required) this.#collect(out, now, 'no-peer-needed');
    return out;
  }

  /** An expected peer was reached and completed its handshake. */
  peerResponded(name: string, now: number): readonly ReadinessTransition[] {
    if (this.#ignoredAfterEnd()) return NONE;
    checkInputName(name);
    this.#advance(now);
    const out = [...this.#expire(now)];
    if (this.done) return out;
    if (!this.#expected.has(name)) {
      this.#stats.unknownPeer++;
      return out;
    }
    if (this.#responded.has(name)) return out;
    this.#responded.add(name);
    if (this.#state === 'Pinging') this.#collect(out, now, 'first-response');
    else if (this.#state === 'Collecting') this.#checkQuorum(out, now);
    return out;
  }

  /** A peer that had responded was lost (connection closed, node down) before bootstrap. */
  peerLost(name: string, now: number): readonly ReadinessTransition[] {
    if (this.#ignoredAfterEnd()) return NONE;
    checkInputName(name);
    this.#advance(now);
    const out = this.#expire(now);
    if (this.done) return out;
    if (!this.#expected.has(name)) {
      this.#stats.unknownPeer++;
      return out;
    }
    this.#responded.delete(name);
    return out;
  }

  /** Time passed: the current phase times out at or after its deadline. */
  tick(now: number): readonly ReadinessTransition[] {
    if (this.#ignoredAfterEnd()) return NONE;
    this.#advance(now);
    return this.#expire(now);
  }

  #ignoredAfterEnd(): boolean {
    if (!this.done) return false;
    this.#stats.ignoredAfterEnd++;
    return true;
  }

  #advance(now: unknown): asserts now is number {
    if (typeof now !== 'number' || !Number.isFinite(now))
      throw new ReadinessError('bad-input', `now must be a finite number, got ${String(now)}`);
    if (now < this.#now)
      throw new ReadinessError(
        'time-backwards',
        `now (${now}) is before the latest time seen (${this.#now}); pass a monotonic clock`,
      );
    this.#now = now;
  }

  /** Time first: a phase whose deadline is reached ends before the input is looked at. */
  #expire(now: number): readonly ReadinessTransition[] {
    if (now < this.#deadline) return NONE;
    if (this.#state === 'Pinging') return [this.#go([], 'TimedOut', now, 'ping-timeout')];
    if (this.#state === 'Collecting') return [this.#go([], 'TimedOut', now, 'collect-timeout')];
    return NONE;
  }

  #collect(out: ReadinessTransition[], now: number, reason: TransitionReason): void {
    this.#deadline = now + this.config.collectTimeoutMs;
    this.#go(out, 'Collecting', now, reason);
    this.#checkQuorum(out, now);
  }

  #checkQuorum(out: ReadinessTransition[], now: number): void {
    if (this.count < this.config.required) return;
    this.#quorumPeers = Object.freeze([...this.#responded].sort());
    this.#go(out, 'Bootstrapped', now, 'quorum-met');
  }

  #go(out: ReadinessTransition[], to: ReadinessState, at: number, reason: TransitionReason): ReadinessTransition {
    const t: ReadinessTransition = Object.freeze({
      from: this.#state,
      to,
      at,
      reason,
      responded: Object.freeze([...this.#responded].sort()),
    });
    this.#state = to;
    if (this.#history.length < MAX_TRANSITIONS) this.#history.push(t);
    out.push(t);
    return t;
  }
}

function checkInputName(name: unknown): void {
  if (typeof name !== 'string')
    throw new ReadinessError('bad-input', `a peer name must be a string, got ${typeof name}`);
}
