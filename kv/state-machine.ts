// The KV state machine: a Raft tenant. `apply(command, index)` applies one committed entry and
// returns its typed result and the watch events it produced; `snapshot()`/`restore(bytes)`
// carry the whole state. Reads (`get`, `scan`) run against the applied state at a revision.
// Deterministic: no clock, no randomness, no I/O; lease time is the leader's, inside commands.
// Every replica that applies the same entries in the same order holds the same state and
// returns the same results, whatever it restored from.
import { KvError } from './errors.js';
import {
  DEFAULT_SPACE_LIMITS,
  MAX_ELECTION_EXTENSION_MS,
  MAX_EXPIRED_PER_ENTRY,
  MAX_LEASE_TTL_MS,
  MAX_SCAN_LIMIT,
  MAX_SPACES,
  MIN_LEASE_TTL_MS,
  validateSpaceLimits,
} from './limits.js';
import { Space, byteLength, type Lease } from './state-machine-space.js';
import { restoreState, snapshotState } from './state-machine-snapshot.js';
import { commandProblem } from './state-machine-validate.js';
import type {
  ApplyOutput,
  GetReply,
  KeyValue,
  KvCommand,
  KvEvent,
  KvResult,
  KvResultErrorCode,
  KvValue,
  LeaseId,
  ReadOptions,
  ScanOptions,
  ScanReply,
  SpaceLimits,
  TxnCompare,
  TxnOp,
  TxnOpResult,
} from './types.js';

type ErrorResult = Extract<KvResult, { type: 'error' }>;

const fail = (code: KvResultErrorCode, message: string, extra: Partial<ErrorResult> = {}): ErrorResult => ({
  type: 'error',
  code,
  message,
  ...extra,
});

const NONE: readonly KvEvent[] = Object.freeze([]);

function sameValue(a: KvValue, b: KvValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compareValues(a: KvValue, b: KvValue): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = typeof a === 'string' ? new TextEncoder().encode(a) : a;
  const y = typeof b === 'string' ? new TextEncoder().encode(b) : b;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

function holds(kv: KeyValue | null, c: TxnCompare): boolean {
  let order: number;
  if (c.target === 'value') {
    if (kv === null) return false;
    order = compareValues(kv.value, c.against as KvValue);
  } else {
    const field = kv === null ? 0 : kv[c.target];
    order = field - (c.against as number);
  }
  switch (c.op) {
    case '==':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '>':
      return order > 0;
  }
}

export class KvStateMachine {
  readonly #spaces = new Map<string, Space>();
  #applied = 0;
  /** The latest leader time seen in a command (ms); lease deadlines are on this clock. */
  #now = 0;

  /** The index of the last entry applied (0 before any). */
  get appliedIndex(): number {
    return this.#applied;
  }

  /** Names of the defined spaces, sorted. */
  spaces(): string[] {
    return [...this.#spaces.keys()].sort();
  }

  /** A space's revision, compacted revision and limits; null if it is not defined. */
  spaceInfo(
    space: string,
  ): { revision: number; compactRevision: number; limits: SpaceLimits; keys: number; leases: number } | null {
    const s = this.#spaces.get(space);
    if (s === undefined) return null;
    return {
      revision: s.revision,
      compactRevision: s.compactRevision,
      limits: s.limits,
      keys: s.live,
      leases: s.leases.size,
    };
  }

  /** Applies the committed entry at `index` (indices increase; a replayed index changes nothing). */
  apply(command: KvCommand, index: number): ApplyOutput {
    if (!Number.isSafeInteger(index) || index < 1)
      return { result: fail('ERR_KV_BAD_COMMAND', `index ${index} is not a log index`), events: NONE };
    if (index <= this.#applied)
      return { result: fail('ERR_KV_BAD_COMMAND', `index ${index} is already applied`), events: NONE };
    this.#applied = index;
    const problem = commandProblem(command);
    if (problem !== null) return { result: fail('ERR_KV_BAD_COMMAND', problem), events: NONE };
    const events: KvEvent[] = [];
    const result = this.#dispatch(command, index, events);
    return { result, events };
  }

  /** The key at a revision (default the current one). Throws KvError for a bad space or revision. */
  get(space: string, key: string, opts: ReadOptions = {}): GetReply {
    const s = this.#space(space);
    const revision = this.#readRevision(s, opts.revision);
    return { kv: revision === s.revision ? s.current(key) : s.at(key, revision), revision };
  }

  /** Live keys with a prefix, in key order, one page at a time (see ScanReply.next). */
  scan(space: string, opts: ScanOptions): ScanReply {
    const s = this.#space(space);
    if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_SCAN_LIMIT)
      throw new KvError('ERR_KV_BAD_COMMAND', `a scan limit is 1..${MAX_SCAN_LIMIT}`);
    const revision = this.#readRevision(s, opts.revision);
    const [items, next] = s.scan(opts.prefix, opts.after, opts.limit, revision);
    return { items, revision, next };
  }

  /** Leases due at `now` (by deadline, then id), at most `limit`: what the leader's expire entry will take. */
  dueLeases(now: number, limit = MAX_EXPIRED_PER_ENTRY): Array<{ space: string; id: LeaseId; deadline: number }> {
    const due: Array<{ space: string; id: LeaseId; deadline: number }> = [];
    for (const name of this.spaces())
      for (const lease of (this.#spaces.get(name) as Space).leases.values())
        if (lease.deadline <= now) due.push({ space: name, id: lease.id, deadline: lease.deadline });
    due.sort((a, b) => a.deadline - b.deadline || a.id - b.id);
    return due.slice(0, limit);
  }

  /** A lease's TTL and deadline (on the leader's clock), or null. */
  lease(space: string, id: LeaseId): { ttlMs: number; deadline: number; keys: string[] } | null {
    const lease = this.#spaces.get(space)?.leases.get(id);
    return lease === undefined ? null : { ttlMs: lease.ttlMs, deadline: lease.deadline, keys: [...lease.keys].sort() };
  }

  /** The whole state as bytes (msgpack). */
  snapshot(): Uint8Array {
    return snapshotState({
      applied: this.#applied,
      now: this.#now,
      spaces: this.spaces().map((n) => this.#spaces.get(n)!),
    });
  }

  /** Replaces the state with a snapshot's. Throws KvError ERR_KV_BAD_SNAPSHOT (and keeps the state) if malformed. */
  restore(bytes: Uint8Array): void {
    const state = restoreState(bytes);
    this.#spaces.clear();
    for (const s of state.spaces) this.#spaces.set(s.name, s);
    this.#applied = state.applied;
    this.#now = state.now;
  }

  #space(name: string): Space {
    const s = this.#spaces.get(name);
    if (s === undefined) throw new KvError('ERR_KV_NO_SPACE', `no KV space ${JSON.stringify(name)}`);
    return s;
  }

  #readRevision(s: Space, revision: number | undefined): number {
    if (revision === undefined || revision === 0) return s.revision;
    const details = { compactRevision: s.compactRevision, currentRevision: s.revision };
    if (!Number.isSafeInteger(revision) || revision < 0)
      throw new KvError('ERR_KV_BAD_COMMAND', `revision ${revision} is not a revision`);
    if (revision < s.compactRevision)
      throw new KvError(
        'ERR_KV_COMPACTED',
        `revision ${revision} is compacted (kept from ${s.compactRevision})`,
        details,
      );
    if (revision > s.revision)
      throw new KvError('ERR_KV_FUTURE_REVISION', `revision ${revision} is beyond ${s.revision}`, details);
    return revision;
  }

  #dispatch(cmd: KvCommand, index: number, events: KvEvent[]): KvResult {
    if (cmd.type === 'space-define') return this.#define(cmd.space, cmd.limits ?? {});
    if (cmd.type === 'expire-leases') return this.#expire(cmd.now, events);
    if (cmd.type === 'leader-changed') return this.#leaderChanged(cmd.now, cmd.electionMs);
    const s = this.#spaces.get(cmd.space);
    if (s === undefined) return fail('ERR_KV_NO_SPACE', `no KV space ${JSON.stringify(cmd.space)}`);
    const result = this.#inSpace(s, cmd, index, events);
    s.autoCompact();
    return result;
  }

  #define(name: string, given: Partial<SpaceLimits>): KvResult {
    const existing = this.#spaces.get(name);
    const limits: SpaceLimits = { ...(existing?.limits ?? DEFAULT_SPACE_LIMITS) };
    for (const k of Object.keys(DEFAULT_SPACE_LIMITS) as Array<keyof SpaceLimits>)
      if (given[k] !== undefined) (limits as Record<keyof SpaceLimits, number>)[k] = given[k] as number;
    try {
      validateSpaceLimits(limits);
    } catch (err) {
      return fail('ERR_KV_BAD_COMMAND', (err as Error).message);
    }
    if (existing !== undefined) existing.limits = Object.freeze(limits);
    else if (this.#spaces.size >= MAX_SPACES) return fail('ERR_KV_SPACE_FULL', `the group holds ${MAX_SPACES} spaces`);
    else this.#spaces.set(name, new Space(name, Object.freeze(limits)));
    return { type: 'space-defined', space: name, limits: Object.freeze(limits) };
  }

  #keyProblem(s: Space, key: string, prefix = false): ErrorResult | null {
    if (!prefix && key.length === 0) return fail('ERR_KV_KEY_TOO_LARGE', 'a key is not empty');
    const n = byteLength(key);
    if (n > s.limits.maxKeyBytes)
      return fail('ERR_KV_KEY_TOO_LARGE', `a key of ${n} bytes is over maxKeyBytes (${s.limits.maxKeyBytes})`);
    return null;
  }

  #writeProblem(s: Space, key: string, value: KvValue, lease: LeaseId | undefined): ErrorResult | null {
    const k = this.#keyProblem(s, key);
    if (k !== null) return k;
    const n = byteLength(value);
    if (n > s.limits.maxValueBytes)
      return fail('ERR_KV_VALUE_TOO_LARGE', `a value of ${n} bytes is over maxValueBytes (${s.limits.maxValueBytes})`);
    if (lease !== undefined && lease !== 0 && !s.leases.has(lease)) return fail('ERR_KV_NO_LEASE', `no lease ${lease}`);
    return null;
  }

  #full(s: Space, newKeys: number): ErrorResult | null {
    return s.live + newKeys > s.limits.maxKeys
      ? fail('ERR_KV_SPACE_FULL', `the space holds maxKeys (${s.limits.maxKeys}) keys`)
      : null;
  }

  #inSpace(
    s: Space,
    cmd: Exclude<KvCommand, { type: 'space-define' | 'expire-leases' | 'leader-changed' }>,
    index: number,
    events: KvEvent[],
  ): KvResult {
    const next = s.revision + 1;
    switch (cmd.type) {
      case 'put': {
        const problem = this.#writeProblem(s, cmd.key, cmd.value, cmd.lease);
        if (problem !== null) return problem;
        const current = s.current(cmd.key);
        if (cmd.prevRevision !== undefined && (current?.modRevision ?? 0) !== cmd.prevRevision)
          return { type: 'put', ok: false, revision: s.revision, current };
        const full = current === null ? this.#full(s, 1) : null;
        if (full !== null) return full;
        const prev = s.put(cmd.key, cmd.value, cmd.lease ?? 0, next, events);
        s.revision = next;
        return { type: 'put', ok: true, revision: next, prev };
      }
      case 'delete': {
        const keys = 'prefix' in cmd ? s.liveKeysWithPrefix(cmd.prefix) : [cmd.key];
        const problem = 'prefix' in cmd ? this.#keyProblem(s, cmd.prefix, true) : this.#keyProblem(s, cmd.key);
        if (problem !== null) return problem;
        let deleted = 0;
        for (const key of keys) if (s.delete(key, next, events)) deleted++;
        if (deleted > 0) s.revision = next;
        return { type: 'delete', deleted, revision: s.revision };
      }
      case 'cas': {
        const problem = this.#writeProblem(s, cmd.key, cmd.value, cmd.lease);
        if (problem !== null) return problem;
        const current = s.current(cmd.key);
        const e = cmd.expected;
        const matched =
          'absent' in e
            ? current === null
            : 'modRevision' in e
              ? (current?.modRevision ?? 0) === e.modRevision
              : current !== null && sameValue(current.value, e.value);
        if (!matched) return { type: 'cas', ok: false, revision: s.revision, current };
        const full = current === null ? this.#full(s, 1) : null;
        if (full !== null) return full;
        s.put(cmd.key, cmd.value, cmd.lease ?? 0, next, events);
        s.revision = next;
        return { type: 'cas', ok: true, revision: next };
      }
      case 'txn':
        return this.#txn(s, cmd.compare, cmd.success, cmd.failure, events);
      case 'lease-grant': {
        if (cmd.ttlMs < MIN_LEASE_TTL_MS || cmd.ttlMs > MAX_LEASE_TTL_MS)
          return fail('ERR_KV_BAD_COMMAND', `a lease TTL is ${MIN_LEASE_TTL_MS}..${MAX_LEASE_TTL_MS} ms`);
        if (s.leases.size >= s.limits.maxLeases)
          return fail('ERR_KV_SPACE_FULL', `the space holds maxLeases (${s.limits.maxLeases}) leases`);
        const now = this.#advance(cmd.now);
        const lease: Lease = { id: index, ttlMs: cmd.ttlMs, deadline: now + cmd.ttlMs, keys: new Set() };
        s.leases.set(index, lease);
        return { type: 'lease-granted', id: index, ttlMs: lease.ttlMs, deadline: lease.deadline };
      }
      case 'lease-keepalive': {
        const lease = s.leases.get(cmd.id);
        if (lease === undefined) return fail('ERR_KV_NO_LEASE', `no lease ${cmd.id}`);
        lease.deadline = this.#advance(cmd.now) + lease.ttlMs;
        return { type: 'lease-kept', id: lease.id, ttlMs: lease.ttlMs, deadline: lease.deadline };
      }
      case 'lease-revoke': {
        if (!s.leases.has(cmd.id)) return fail('ERR_KV_NO_LEASE', `no lease ${cmd.id}`);
        const deleted = this.#revoke(s, cmd.id, next, events);
        if (deleted > 0) s.revision = next;
        return { type: 'lease-revoked', id: cmd.id, deleted, revision: s.revision };
      }
      case 'compact': {
        const details = { compactRevision: s.compactRevision, currentRevision: s.revision };
        if (cmd.revision > s.revision)
          return fail('ERR_KV_FUTURE_REVISION', `revision ${cmd.revision} is beyond ${s.revision}`, details);
        s.compactTo(cmd.revision);
        return { type: 'compacted', space: s.name, revision: s.compactRevision };
      }
    }
  }

  #txn(
    s: Space,
    compare: readonly TxnCompare[],
    success: readonly TxnOp[],
    failure: readonly TxnOp[],
    events: KvEvent[],
  ): KvResult {
    const total = compare.length + success.length + failure.length;
    if (total > s.limits.maxOpsPerTxn)
      return fail(
        'ERR_KV_TXN_TOO_LARGE',
        `a txn of ${total} compares and operations is over maxOpsPerTxn (${s.limits.maxOpsPerTxn})`,
      );
    for (const c of compare) {
      const p = this.#keyProblem(s, c.key);
      if (p !== null) return p;
    }
    for (const branch of [success, failure]) {
      const p = this.#branchProblem(s, branch);
      if (p !== null) return p;
    }
    const succeeded = compare.every((c) => holds(s.current(c.key), c));
    const ops = succeeded ? success : failure;
    let newKeys = 0;
    for (const o of ops) if (o.op === 'put' && s.current(o.key) === null) newKeys++;
    const full = this.#full(s, newKeys);
    if (full !== null) return full;
    const next = s.revision + 1;
    let changed = false;
    const results: TxnOpResult[] = [];
    for (const op of ops) {
      if (op.op === 'put') {
        results.push({ op: 'put', prev: s.put(op.key, op.value, op.lease ?? 0, next, events) });
        changed = true;
      } else if (op.op === 'delete') {
        const keys = 'prefix' in op ? s.liveKeysWithPrefix(op.prefix) : [op.key];
        let deleted = 0;
        for (const key of keys) if (s.delete(key, next, events)) deleted++;
        if (deleted > 0) changed = true;
        results.push({ op: 'delete', deleted });
      } else results.push({ op: 'get', kv: s.current(op.key) });
    }
    if (changed) s.revision = next;
    return { type: 'txn', succeeded, revision: s.revision, results };
  }

  /** Limits of every operation of a branch, and no key written twice (a txn has one revision). */
  #branchProblem(s: Space, ops: readonly TxnOp[]): ErrorResult | null {
    const puts = new Set<string>();
    const deletes: Array<{ key?: string; prefix?: string }> = [];
    for (const op of ops) {
      if (op.op === 'put') {
        const p = this.#writeProblem(s, op.key, op.value, op.lease);
        if (p !== null) return p;
        if (puts.has(op.key)) return fail('ERR_KV_BAD_COMMAND', `a txn writes key ${JSON.stringify(op.key)} twice`);
        puts.add(op.key);
      } else if (op.op === 'delete') {
        const p = 'prefix' in op ? this.#keyProblem(s, op.prefix, true) : this.#keyProblem(s, op.key);
        if (p !== null) return p;
        deletes.push(op);
      } else {
        const p = this.#keyProblem(s, op.key);
        if (p !== null) return p;
      }
    }
    for (const d of deletes)
      for (const key of puts)
        if (d.key === key || (d.prefix !== undefined && key.startsWith(d.prefix)))
          return fail('ERR_KV_BAD_COMMAND', `a txn both puts and deletes key ${JSON.stringify(key)}`);
    return null;
  }

  /** Deletes a lease and its keys at `revision`; returns how many keys went. */
  #revoke(s: Space, id: LeaseId, revision: number, events: KvEvent[]): number {
    const lease = s.leases.get(id) as Lease;
    s.leases.delete(id);
    let deleted = 0;
    for (const key of [...lease.keys].sort()) if (s.delete(key, revision, events)) deleted++;
    return deleted;
  }

  #advance(now: number): number {
    this.#now = Math.max(this.#now, now);
    return this.#now;
  }

  #expire(now: number, events: KvEvent[]): KvResult {
    const at = this.#advance(now);
    const due = this.dueLeases(at, MAX_EXPIRED_PER_ENTRY + 1);
    const taken = due.slice(0, MAX_EXPIRED_PER_ENTRY);
    const touched = new Set<Space>();
    for (const { space, id } of taken) {
      const s = this.#spaces.get(space) as Space;
      if (this.#revoke(s, id, s.revision + 1, events) > 0) touched.add(s);
    }
    for (const s of touched) {
      s.revision++;
      s.autoCompact();
    }
    return { type: 'leases-expired', expired: taken.map((d) => d.id), more: due.length > taken.length };
  }

  #leaderChanged(now: number, electionMs: number): KvResult {
    if (electionMs > MAX_ELECTION_EXTENSION_MS)
      return fail('ERR_KV_BAD_COMMAND', `an election extension is at most ${MAX_ELECTION_EXTENSION_MS} ms`);
    let leases = 0;
    for (const s of this.#spaces.values())
      for (const lease of s.leases.values()) {
        const remaining = Math.min(lease.ttlMs, Math.max(0, lease.deadline - this.#now));
        lease.deadline = now + remaining + electionMs;
        leases++;
      }
    // A new leader's clock: from here on, times are on it.
    this.#now = now;
    return { type: 'leases-extended', leases };
  }
}
