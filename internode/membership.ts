// The membership core: a pure state machine of who is in the cluster. No timers, no clock reads,
// no I/O: the host passes `now` (ms, monotonic) and the facts it sees (connections counted, what
// a probe found) into every input, and acts on what comes back.
//
// It decides (docs/wire.md §5 has the rules in prose):
// - admission of an authenticated peer before it is welcomed: itself, an older incarnation, a
//   full table, too many connections are refused; a newer incarnation of a member that is up
//   and connected is probed first, and refused as 'nameInUse' if the old one answers (two live
//   nodes under one name), admitted as a restart if it is silent;
// - attaching a connection: the first one of an incarnation brings it up (after a down of the
//   incarnation it replaces); a second one goes to the tie-break (keepNewConnection);
// - who dials whom: a member heard of for the first time is dialed by the smaller name; a member
//   known and lost is redialed by either side (nobody waits forever for a peer that forgot it);
// - member-list learning: entries are validated; older or already-up incarnations are ignored;
// - redial backoff: a member whose connection did not stay up STABLE_UP_MS backs off further;
// - forgetting: a departed member (it left, or cannot be dialed) after FORGET_DEPARTED_AFTER_MS,
//   any other down member after FORGET_MEMBER_AFTER_MS, and the longest-down one when the table
//   is full and a newcomer needs its slot.
import { validateNodeName } from '../runtime/base.js';
import type { Refusal } from './errors.js';
import {
  FORGET_DEPARTED_AFTER_MS,
  FORGET_MEMBER_AFTER_MS,
  MAX_ADDRESS_LENGTH,
  MAX_CONNECTIONS_PER_PEER,
  MAX_MEMBER_LIST,
  MAX_PEERS,
  STABLE_UP_MS,
} from './limits.js';

/**
 * timeout: silent too long; disconnected: its last connection closed; left: it said goodbye;
 * new-incarnation: it restarted; stopped: this node stopped.
 */
export type DownReason = 'timeout' | 'disconnected' | 'left' | 'new-incarnation' | 'stopped';

export type NodeEvent =
  | { readonly type: 'up'; readonly node: string; readonly incarnation: number; readonly address: string }
  | { readonly type: 'down'; readonly node: string; readonly incarnation: number; readonly reason: DownReason };

export interface MemberIdentity {
  readonly node: string;
  readonly incarnation: number;
  /** Where it can be dialed ('' when it does not listen). */
  readonly address: string;
}

export interface MemberView extends MemberIdentity {
  readonly state: 'up' | 'down';
  /** When the state last changed. */
  readonly since: number;
  /** Redials since its connection last stayed up (the backoff exponent). */
  readonly attempts: number;
  /** It left gracefully (or we stopped): never redialed. */
  readonly departed: boolean;
}

/** The refusals this core decides. */
export type MembershipRefusal = Extract<
  Refusal,
  'selfConnection' | 'staleIncarnation' | 'tooManyPeers' | 'nameInUse' | 'tooManyConnections'
>;

export type Admission =
  | { readonly kind: 'admit' }
  /** A newer incarnation while the old one is up and connected: probe the old one, then ask again. */
  | { readonly kind: 'probe' }
  | { readonly kind: 'refuse'; readonly refusal: MembershipRefusal };

export interface AdmissionFacts {
  /** Connections of the peer's incarnation we count now (live, retiring, replaced). */
  readonly connections: number;
  /** What a probe of the older incarnation found, once one ran. */
  readonly probe?: 'answered' | 'silent';
}

export type Attachment =
  | { readonly kind: 'refuse'; readonly refusal: MembershipRefusal }
  /** The incarnation comes up; `events` holds the down of the one it replaces (if it was up) first. */
  | {
      readonly kind: 'up';
      readonly events: readonly NodeEvent[];
      /** The incarnation it replaces (its link must go), if any. */
      readonly replaced: number | undefined;
      /** Members evicted to make room (their links must go). */
      readonly forgotten: readonly string[];
    }
  /** Another connection of a member already up: the tie-break decides which one stays. */
  | { readonly kind: 'extra' };

export interface Learned {
  /** Addresses to dial. */
  readonly dial: readonly string[];
  /** Entries that were not [node, address, incarnation] with valid fields. */
  readonly malformed: number;
}

interface MemberRecord {
  readonly node: string;
  readonly incarnation: number;
  address: string;
  state: 'up' | 'down';
  since: number;
  attempts: number;
  departed: boolean;
}

/**
 * Of two connections to one peer, both sides keep the one dialed by the smaller name. A new
 * connection replaces the existing one only if it is that one and the existing one is not.
 */
export function keepNewConnection(self: string, peer: string, newDialer: string, oldDialer: string): boolean {
  const preferred = self < peer ? self : peer;
  return newDialer === preferred && oldDialer !== preferred;
}

export class MembershipCore {
  readonly self: string;
  #address: string;
  readonly #maxPeers: number;
  readonly #members = new Map<string, MemberRecord>();

  constructor(self: MemberIdentity, options: { readonly maxPeers?: number } = {}) {
    validateNodeName(self.node);
    this.self = self.node;
    this.#address = self.address;
    this.#maxPeers = options.maxPeers ?? MAX_PEERS;
  }

  /** Our own dialable address ('' when we do not listen). */
  get address(): string {
    return this.#address;
  }

  set address(address: string) {
    this.#address = address;
  }

  get size(): number {
    return this.#members.size;
  }

  get(node: string): MemberView | undefined {
    const m = this.#members.get(node);
    return m === undefined ? undefined : { ...m };
  }

  members(): MemberView[] {
    return [...this.#members.values()].map((m) => ({ ...m }));
  }

  upNodes(): string[] {
    const up: string[] = [];
    for (const m of this.#members.values()) if (m.state === 'up') up.push(m.node);
    return up;
  }

  isUp(node: string, incarnation?: number): boolean {
    const m = this.#members.get(node);
    return m !== undefined && m.state === 'up' && (incarnation === undefined || m.incarnation === incarnation);
  }

  /** An authenticated peer asks to be welcomed. */
  admit(peer: MemberIdentity, facts: AdmissionFacts): Admission {
    if (peer.node === this.self) return refuse('selfConnection');
    const known = this.#members.get(peer.node);
    if (known === undefined) return this.#victim() === null ? refuse('tooManyPeers') : ADMIT;
    if (peer.incarnation < known.incarnation) return refuse('staleIncarnation');
    if (peer.incarnation === known.incarnation)
      return facts.connections >= MAX_CONNECTIONS_PER_PEER ? refuse('tooManyConnections') : ADMIT;
    if (known.state !== 'up' || facts.connections === 0) return ADMIT;
    if (facts.probe === undefined) return PROBE;
    return facts.probe === 'answered' ? refuse('nameInUse') : ADMIT;
  }

  /** A welcomed connection is attached (the admission is checked again: things move meanwhile). */
  attach(peer: MemberIdentity, now: number, facts: { readonly connections: number }): Attachment {
    if (peer.node === this.self) return refuse('selfConnection');
    const known = this.#members.get(peer.node);
    if (known !== undefined && peer.incarnation < known.incarnation) return refuse('staleIncarnation');
    if (known !== undefined && peer.incarnation === known.incarnation) {
      if (facts.connections >= MAX_CONNECTIONS_PER_PEER) return refuse('tooManyConnections');
      if (peer.address !== '') known.address = peer.address;
      if (known.state === 'up') return EXTRA;
      this.#up(known, now);
      return { kind: 'up', events: [upEvent(known)], replaced: undefined, forgotten: [] };
    }
    const events: NodeEvent[] = [];
    const forgotten: string[] = [];
    let replaced: number | undefined;
    if (known !== undefined) {
      // A newer incarnation: the old one is down (its pids are dead), then the new one comes up.
      replaced = known.incarnation;
      if (known.state === 'up') events.push(this.#down(known, 'new-incarnation', now));
      this.#members.delete(known.node);
    } else {
      const victim = this.#victim();
      if (victim === null) return refuse('tooManyPeers');
      if (victim !== undefined) {
        this.#members.delete(victim);
        forgotten.push(victim);
      }
    }
    const record: MemberRecord = {
      node: peer.node,
      incarnation: peer.incarnation,
      address: peer.address !== '' ? peer.address : (known?.address ?? ''),
      state: 'down',
      since: now,
      attempts: known?.attempts ?? 0,
      departed: false,
    };
    this.#members.set(record.node, record);
    this.#up(record, now);
    events.push(upEvent(record));
    return { kind: 'up', events, replaced, forgotten };
  }

  /**
   * The member's incarnation is down. Returns the event, or undefined when it was not up (or is
   * another incarnation): never two downs without an up between.
   */
  down(node: string, incarnation: number, reason: DownReason, now: number): NodeEvent | undefined {
    const m = this.#members.get(node);
    if (m === undefined || m.incarnation !== incarnation || m.state !== 'up') return undefined;
    return this.#down(m, reason, now);
  }

  /**
   * Whether (and where) to redial a member that went down: never one that departed, or one we
   * cannot dial. `attempt` is the backoff exponent.
   */
  redial(node: string, incarnation: number): { readonly address: string; readonly attempt: number } | undefined {
    const m = this.#members.get(node);
    if (m === undefined || m.incarnation !== incarnation || m.state !== 'down' || m.departed) return undefined;
    if (!this.#shouldDial(m.address, true)) return undefined;
    return { address: m.address, attempt: m.attempts };
  }

  /** A redial of the member failed: the next one waits longer. */
  redialFailed(node: string, incarnation: number): void {
    const m = this.#members.get(node);
    if (m !== undefined && m.incarnation === incarnation && m.state === 'down') m.attempts++;
  }

  /** A member list from a peer: returns the addresses to dial. */
  learn(list: readonly unknown[]): Learned {
    const dial: string[] = [];
    let malformed = 0;
    for (const entry of list) {
      const member = memberEntry(entry);
      if (member === undefined) {
        malformed++;
        continue;
      }
      if (member.node === this.self) continue;
      const known = this.#members.get(member.node);
      if (
        known !== undefined &&
        (known.incarnation > member.incarnation || (known.incarnation === member.incarnation && known.state === 'up'))
      )
        continue;
      if (this.#shouldDial(member.address, known !== undefined, member.node)) dial.push(member.address);
    }
    return { dial, malformed };
  }

  /** The member list to send to `to`: members up, with an address, except `to` itself. */
  memberList(to: string, only?: readonly string[]): [string, string, number][] {
    const list: [string, string, number][] = [];
    const pick = only?.map((n) => this.#members.get(n)) ?? this.#members.values();
    for (const m of pick) {
      if (list.length >= MAX_MEMBER_LIST) break;
      if (m === undefined || m.node === to || m.state !== 'up' || m.address === '') continue;
      list.push([m.node, m.address, m.incarnation]);
    }
    return list;
  }

  /** Time passed: returns the members forgotten (the host drops their links and detector state). */
  tick(now: number): string[] {
    const forgotten: string[] = [];
    for (const m of this.#members.values()) {
      if (m.state !== 'down') continue;
      const bound = m.departed || m.address === '' ? FORGET_DEPARTED_AFTER_MS : FORGET_MEMBER_AFTER_MS;
      if (now - m.since >= bound) forgotten.push(m.node);
    }
    for (const node of forgotten) this.#members.delete(node);
    return forgotten;
  }

  /** Forgets a member at once (a down one only; returns whether it went). */
  forget(node: string): boolean {
    const m = this.#members.get(node);
    if (m === undefined || m.state === 'up') return false;
    return this.#members.delete(node);
  }

  /**
   * Who dials a member: the smaller name dials one heard of for the first time (the other waits,
   * which halves the dials of a mass start); either side redials one it knew; a node that does
   * not listen dials everyone (nobody can dial it).
   */
  #shouldDial(address: string, known: boolean, node?: string): boolean {
    if (address === '') return false;
    return known || this.#address === '' || node === undefined || this.self < node;
  }

  #up(m: MemberRecord, now: number): void {
    m.state = 'up';
    m.since = now;
    m.departed = false;
  }

  #down(m: MemberRecord, reason: DownReason, now: number): NodeEvent {
    // A connection that did not stay up is no reason to redial at once: back off further.
    m.attempts = now - m.since >= STABLE_UP_MS ? 0 : m.attempts + 1;
    m.state = 'down';
    m.since = now;
    m.departed = reason === 'left' || reason === 'stopped';
    return { type: 'down', node: m.node, incarnation: m.incarnation, reason };
  }

  /** Room for a newcomer: undefined if there is room, the member to evict, or null if all are up. */
  #victim(): string | undefined | null {
    if (this.#members.size < this.#maxPeers) return undefined;
    let victim: MemberRecord | undefined;
    for (const m of this.#members.values()) {
      if (m.state !== 'down') continue;
      if (victim === undefined || m.since < victim.since || (m.since === victim.since && m.node < victim.node))
        victim = m;
    }
    return victim?.node ?? null;
  }
}

const ADMIT: Admission = { kind: 'admit' };
const PROBE: Admission = { kind: 'probe' };
const EXTRA: Attachment = { kind: 'extra' };

function refuse(refusal: MembershipRefusal): { readonly kind: 'refuse'; readonly refusal: MembershipRefusal } {
  return { kind: 'refuse', refusal };
}

function upEvent(m: MemberRecord): NodeEvent {
  return { type: 'up', node: m.node, incarnation: m.incarnation, address: m.address };
}

/** A member-list entry from the wire, validated: [node, address, incarnation]. */
function memberEntry(entry: unknown): MemberIdentity | undefined {
  if (!Array.isArray(entry) || entry.length !== 3) return undefined;
  const [node, address, incarnation] = entry as unknown[];
  if (typeof address !== 'string' || address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return undefined;
  if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0) return undefined;
  try {
    validateNodeName(node);
  } catch {
    return undefined;
  }
  return { node: node as string, incarnation, address };
}
