// The consistent name registry's state machine: a Raft tenant's pure core. `apply(command,
// index)` applies one committed batch and returns one result per operation plus the events it
// made; snapshot()/restore() carry the whole state. Deterministic: no clock, no I/O — the
// leader's view of membership arrives inside commands (`purge`).
//
// A node's incarnation only grows: once the registry has seen a pid of incarnation I of node N,
// every name held by an older incarnation of N is dead — whereis() no longer returns it, a
// registration may take it, and the leader purges it in chunks (so the watch stream says so too).
import { isPid, type Pid } from '../../runtime/base.js';
import {
  MAX_EXITS_PER_OPERATION,
  MAX_KNOWN_NODES,
  MAX_NAME_BYTES,
  MAX_NAMES,
  MAX_CONSISTENT_NAMES_PER_NODE,
  MAX_NAMES_PER_PID,
  PURGE_CHUNK_NAMES,
  MAX_BATCH_OPERATIONS,
} from './limits.js';
import { restoreNames, snapshotNames } from './snapshot.js';
import type {
  NameBinding,
  NameErrorResult,
  NameEvent,
  NameOperation,
  NameResult,
  NamesApplyOutput,
  NamesCommand,
} from './types.js';

const encoder = new TextEncoder();

const fail = (
  code: NameErrorResult['code'],
  message: string,
  extra: Partial<NameErrorResult> = {},
): NameErrorResult => ({
  type: 'error',
  code,
  message,
  ...extra,
});

/** Why a name is not a valid registry name (or null when it is). */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'a name is a non-empty string';
  if (name.length > MAX_NAME_BYTES || encoder.encode(name).length > MAX_NAME_BYTES)
    return `a name is at most ${MAX_NAME_BYTES} UTF-8 bytes`;
  return null;
}

const samePid = (a: Pid, b: Pid): boolean => a.node === b.node && a.id === b.id && a.incarnation === b.incarnation;

/** Names held by one process: most hold one, so a lone name is kept unboxed. */
type Held = string | Set<string>;

export class ConsistentNamesMachine {
  #applied = 0;
  readonly #bindings = new Map<string, NameBinding>();
  /** node → incarnation → names held by processes of that incarnation. */
  readonly #byNode = new Map<string, Map<number, Set<string>>>();
  /** node → incarnation → process id → its names (numeric keys: no string per process). */
  readonly #byPid = new Map<string, Map<number, Map<number, Held>>>();
  /** The newest incarnation seen of each node that ever held a name (insertion order kept). */
  readonly #incarnations = new Map<string, number>();

  /** The index of the last entry applied: the registry's revision. */
  get revision(): number {
    return this.#applied;
  }

  /** Bindings held, live or awaiting their purge. */
  get size(): number {
    return this.#bindings.size;
  }

  /** The live binding of `name`, if any (a name of a restarted node's old incarnation is not live). */
  whereis(name: string): NameBinding | undefined {
    const b = this.#bindings.get(name);
    return b !== undefined && this.#live(b) ? b : undefined;
  }

  /** The newest incarnation of `node` the registry has seen (0 if none). */
  incarnation(node: string): number {
    return this.#incarnations.get(node) ?? 0;
  }

  /** Live bindings whose name starts with `prefix`, in no particular order. */
  *bindings(prefix = ''): Generator<NameBinding> {
    for (const b of this.#bindings.values()) if (b.name.startsWith(prefix) && this.#live(b)) yield b;
  }

  /** Per node, the incarnations whose processes hold names (what the leader's purge duty reads). */
  *holders(): Generator<{ readonly node: string; readonly incarnations: readonly number[] }> {
    for (const [node, byInc] of this.#byNode) yield { node, incarnations: [...byInc.keys()] };
  }

  /** Names held by processes of `node` (any incarnation). */
  namesOf(node: string): number {
    let n = 0;
    for (const set of this.#byNode.get(node)?.values() ?? []) n += set.size;
    return n;
  }

  apply(command: unknown, index: number): NamesApplyOutput {
    if (!Number.isSafeInteger(index) || index <= this.#applied)
      throw new RangeError(`entries apply in order: ${index} after ${this.#applied}`);
    this.#applied = index;
    const problem = namesCommandProblem(command);
    if (problem !== null) return { result: fail('ERR_NAMES_BAD_COMMAND', problem), events: [] };
    const events: NameEvent[] = [];
    const results: NameResult[] = [];
    for (const op of (command as NamesCommand).ops) results.push(this.#one(op, index, events));
    return { result: { type: 'batch', results }, events };
  }

  snapshot(): Uint8Array {
    return snapshotNames(this.#applied, this.#bindings.values(), this.#incarnations);
  }

  /** Replaces the state with a snapshot's; throws ERR_NAMES_BAD_SNAPSHOT (state unchanged) on bad bytes. */
  restore(image: Uint8Array): void {
    const state = restoreNames(image);
    this.#applied = state.applied;
    this.#bindings.clear();
    this.#byNode.clear();
    this.#byPid.clear();
    this.#incarnations.clear();
    for (const [node, inc] of state.incarnations) this.#incarnations.set(node, inc);
    for (const b of state.bindings) this.#bind(b);
  }

  #one(op: NameOperation, index: number, events: NameEvent[]): NameResult {
    switch (op.op) {
      case 'register':
        return this.#register(op.name, op.pid, index, events);
      case 'unregister':
        return this.#unregister(op, index, events);
      case 'exits': {
        let count = 0;
        for (const pid of op.pids) count += this.#removePid(pid, index, 'exit', events);
        return { type: 'removed', count };
      }
      case 'purge':
        return this.#purge(op.node, op.belowIncarnation, op.limit, index, events);
    }
  }

  #register(name: string, pid: Pid, index: number, events: NameEvent[]): NameResult {
    const known = this.#incarnations.get(pid.node);
    if (known !== undefined && pid.incarnation < known)
      return fail(
        'ERR_NAMES_STALE_OWNER',
        `${pid.toString()} belongs to an incarnation of ${pid.node} that has restarted since`,
      );
    const existing = this.#bindings.get(name);
    if (existing !== undefined && this.#live(existing, pid)) {
      if (samePid(existing.pid, pid)) return { type: 'registered', fence: existing.fence };
      return { type: 'conflict', owner: existing.pid, fence: existing.fence };
    }
    if (known === undefined && this.#incarnations.size >= MAX_KNOWN_NODES && !this.#forgetANode())
      return fail('ERR_NAMES_LIMIT', `the registry knows ${MAX_KNOWN_NODES} nodes`, { limit: 'MAX_KNOWN_NODES' });
    const held = this.#held(pid);
    const heldCount = held === undefined ? 0 : typeof held === 'string' ? 1 : held.size;
    if (heldCount >= MAX_NAMES_PER_PID)
      return fail('ERR_NAMES_LIMIT', `${pid.toString()} holds ${MAX_NAMES_PER_PID} names`, {
        limit: 'MAX_NAMES_PER_PID',
      });
    const replacing = existing !== undefined ? 1 : 0;
    if (this.namesOf(pid.node) - (existing?.pid.node === pid.node ? replacing : 0) >= MAX_CONSISTENT_NAMES_PER_NODE)
      return fail('ERR_NAMES_LIMIT', `${pid.node} holds ${MAX_CONSISTENT_NAMES_PER_NODE} names`, {
        limit: 'MAX_CONSISTENT_NAMES_PER_NODE',
      });
    if (this.#bindings.size - replacing >= MAX_NAMES)
      return fail('ERR_NAMES_LIMIT', `the registry holds ${MAX_NAMES} names`, { limit: 'MAX_NAMES' });
    if (known === undefined || pid.incarnation > known) this.#incarnations.set(pid.node, pid.incarnation);
    if (existing !== undefined) this.#remove(existing, index, 'node-restarted', events);
    const binding: NameBinding = { name, pid, fence: index };
    this.#bind(binding);
    events.push({ type: 'registered', name, pid, fence: index, revision: index });
    return { type: 'registered', fence: index };
  }

  #unregister(op: Extract<NameOperation, { op: 'unregister' }>, index: number, events: NameEvent[]): NameResult {
    const b = this.whereis(op.name);
    if (b === undefined) return { type: 'not-registered' };
    if (op.fence !== undefined) {
      if (op.fence !== b.fence)
        return fail('ERR_NAMES_STALE_FENCE', `${op.name} is bound at fence ${b.fence}, not ${op.fence}`, {
          fence: b.fence,
        });
    } else if (op.by !== b.pid.node) {
      return fail('ERR_NAMES_NOT_OWNER', `${op.name} is held on ${b.pid.node}, not ${op.by}: give its fence`, {
        fence: b.fence,
      });
    }
    this.#remove(b, index, 'unregister', events);
    return { type: 'unregistered', fence: b.fence };
  }

  #purge(node: string, below: number | undefined, limit: number, index: number, events: NameEvent[]): NameResult {
    // The leader saw `node` up at `below`: its older names are dead from here on, purged or not.
    const known = this.#incarnations.get(node);
    if (below !== undefined && known !== undefined && below > known) this.#incarnations.set(node, below);
    const byInc = this.#byNode.get(node);
    let count = 0;
    if (byInc !== undefined) {
      for (const [inc, names] of [...byInc]) {
        if (below !== undefined && inc >= below) continue;
        for (const name of names) {
          if (count >= limit) return { type: 'purged', count, more: true };
          this.#remove(this.#bindings.get(name)!, index, below === undefined ? 'node-down' : 'node-restarted', events);
          count++;
        }
      }
    }
    return { type: 'purged', count, more: false };
  }

  #removePid(pid: Pid, index: number, reason: 'exit', events: NameEvent[]): number {
    const held = this.#held(pid);
    if (held === undefined) return 0;
    const names = typeof held === 'string' ? [held] : [...held];
    for (const name of names) this.#remove(this.#bindings.get(name)!, index, reason, events);
    return names.length;
  }

  /** Is `b` live — its incarnation not older than the newest seen (or than `candidate`'s, for a registration)? */
  #live(b: NameBinding, candidate?: Pid): boolean {
    const newest = Math.max(
      this.#incarnations.get(b.pid.node) ?? 0,
      candidate !== undefined && candidate.node === b.pid.node ? candidate.incarnation : 0,
    );
    return b.pid.incarnation >= newest;
  }

  #bind(b: NameBinding): void {
    this.#bindings.set(b.name, b);
    let byInc = this.#byNode.get(b.pid.node);
    if (byInc === undefined) this.#byNode.set(b.pid.node, (byInc = new Map()));
    let names = byInc.get(b.pid.incarnation);
    if (names === undefined) byInc.set(b.pid.incarnation, (names = new Set()));
    names.add(b.name);
    let byInc2 = this.#byPid.get(b.pid.node);
    if (byInc2 === undefined) this.#byPid.set(b.pid.node, (byInc2 = new Map()));
    let ids = byInc2.get(b.pid.incarnation);
    if (ids === undefined) byInc2.set(b.pid.incarnation, (ids = new Map()));
    const held = ids.get(b.pid.id);
    if (held === undefined) ids.set(b.pid.id, b.name);
    else if (typeof held === 'string') ids.set(b.pid.id, new Set([held, b.name]));
    else held.add(b.name);
  }

  #remove(
    b: NameBinding,
    index: number,
    reason: Extract<NameEvent, { type: 'unregistered' }>['reason'],
    events: NameEvent[],
  ): void {
    this.#bindings.delete(b.name);
    const byInc = this.#byNode.get(b.pid.node)!;
    const names = byInc.get(b.pid.incarnation)!;
    names.delete(b.name);
    if (names.size === 0) byInc.delete(b.pid.incarnation);
    if (byInc.size === 0) this.#byNode.delete(b.pid.node);
    const byInc2 = this.#byPid.get(b.pid.node)!;
    const ids = byInc2.get(b.pid.incarnation)!;
    const held = ids.get(b.pid.id)!;
    if (typeof held === 'string' || held.size === 1) {
      ids.delete(b.pid.id);
      if (ids.size === 0) byInc2.delete(b.pid.incarnation);
      if (byInc2.size === 0) this.#byPid.delete(b.pid.node);
    } else {
      held.delete(b.name);
      if (held.size === 1) ids.set(b.pid.id, held.values().next().value as string);
    }
    events.push({ type: 'unregistered', name: b.name, pid: b.pid, fence: b.fence, revision: index, reason });
  }

  #held(pid: Pid): Held | undefined {
    return this.#byPid.get(pid.node)?.get(pid.incarnation)?.get(pid.id);
  }

  /** Forgets the oldest-known node that holds no names (deterministic: insertion order). */
  #forgetANode(): boolean {
    for (const node of this.#incarnations.keys())
      if (!this.#byNode.has(node)) {
        this.#incarnations.delete(node);
        return true;
      }
    return false;
  }
}

/** Why `command` is not a well-formed batch (null when it is). Bytes from the log are untrusted. */
export function namesCommandProblem(command: unknown): string | null {
  if (typeof command !== 'object' || command === null) return 'a command is an object';
  const c = command as Partial<NamesCommand>;
  if (c.type !== 'batch' || !Array.isArray(c.ops)) return 'a command is { type: "batch", ops: [...] }';
  if (c.ops.length === 0 || c.ops.length > MAX_BATCH_OPERATIONS)
    return `a batch holds 1 to ${MAX_BATCH_OPERATIONS} operations`;
  for (const op of c.ops as unknown[]) {
    const problem = operationProblem(op);
    if (problem !== null) return problem;
  }
  return null;
}

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function operationProblem(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return 'an operation is an object';
  const op = raw as Record<string, unknown>;
  switch (op.op) {
    case 'register':
      return nameProblem(op.name) ?? (isPid(op.pid) ? null : 'register takes a pid');
    case 'unregister':
      if (typeof op.by !== 'string' || op.by.length === 0) return 'unregister names the node it comes from';
      if (op.fence !== undefined && !(isNat(op.fence) && op.fence > 0)) return 'a fence is an index >= 1';
      return nameProblem(op.name);
    case 'exits':
      if (!Array.isArray(op.pids) || op.pids.length > MAX_EXITS_PER_OPERATION || !op.pids.every(isPid))
        return `exits carries up to ${MAX_EXITS_PER_OPERATION} pids`;
      return null;
    case 'purge':
      if (typeof op.node !== 'string' || op.node.length === 0) return 'purge names a node';
      if (op.belowIncarnation !== undefined && !isNat(op.belowIncarnation)) return 'an incarnation is a number >= 0';
      if (!isNat(op.limit) || op.limit < 1 || op.limit > PURGE_CHUNK_NAMES)
        return `a purge removes 1 to ${PURGE_CHUNK_NAMES} names`;
      return null;
    default:
      return `unknown operation ${JSON.stringify(String(op.op))}`;
  }
}
