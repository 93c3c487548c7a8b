// One group in one node's view of a scope: its members as a multiset with order, and the
// immutable arrays handed to readers, rebuilt lazily and only after this group changed.
import type { Pid } from '../runtime/base.js';
import type { Group } from './types.js';

const EMPTY: readonly Pid[] = Object.freeze([]);

function samePid(a: Pid, b: Pid): boolean {
  return a === b || a.equals(b);
}

export class GroupState {
  readonly name: Group;
  /**
   * Members oldest → newest, so a join is a push and a leave of the most recent occurrence
   * searches from the end; `members()` is this array reversed (newest first, rule 4).
   */
  #entries: Pid[] = [];
  #localCount = 0;
  #members: readonly Pid[] | undefined;
  #local: readonly Pid[] | undefined;
  #distinct: readonly Pid[] | undefined;
  #distinctLocal: readonly Pid[] | undefined;
  readonly #localNode: string;

  constructor(name: Group, localNode: string) {
    this.name = name;
    this.#localNode = localNode;
  }

  get size(): number {
    return this.#entries.length;
  }

  get localCount(): number {
    return this.#localCount;
  }

  /** Newest first, with multiplicity; the same frozen array until the group changes. */
  members(): readonly Pid[] {
    if (this.#members === undefined) {
      const entries = this.#entries;
      const out = new Array<Pid>(entries.length);
      for (let i = 0, j = entries.length - 1; j >= 0; i++, j--) out[i] = entries[j] as Pid;
      this.#members = Object.freeze(out);
    }
    return this.#members;
  }

  /** This node's members, in the same relative order as `members()`. */
  localMembers(): readonly Pid[] {
    if (this.#local === undefined) {
      this.#local = this.#localCount === 0 ? EMPTY : Object.freeze(this.blockOf(this.#localNode));
    }
    return this.#local;
  }

  /** Each member once (first occurrence in `members` order): the targets of a broadcast. */
  distinctMembers(): readonly Pid[] {
    return (this.#distinct ??= distinct(this.members()));
  }

  distinctLocalMembers(): readonly Pid[] {
    return (this.#distinctLocal ??= distinct(this.localMembers()));
  }

  /** Members of one node, newest first (a fresh array). */
  blockOf(node: string): Pid[] {
    const out: Pid[] = [];
    const entries = this.#entries;
    for (let j = entries.length - 1; j >= 0; j--) {
      const pid = entries[j] as Pid;
      if (pid.node === node) out.push(pid);
    }
    return out;
  }

  /** Put `pids` at the head, keeping their order: `pids[0]` becomes the newest member. */
  pushHead(pids: readonly Pid[]): void {
    for (let i = pids.length - 1; i >= 0; i--) this.#entries.push(pids[i] as Pid);
    this.#countLocal(pids, 1);
    this.#changed(pids.length > 0);
  }

  /** Remove the most recent occurrence of `pid`; false if it is not a member. */
  removeMostRecent(pid: Pid): boolean {
    const entries = this.#entries;
    for (let j = entries.length - 1; j >= 0; j--) {
      if (samePid(entries[j] as Pid, pid)) {
        if (j === entries.length - 1) entries.pop();
        else entries.splice(j, 1);
        if (pid.node === this.#localNode) this.#localCount--;
        this.#changed(true);
        return true;
      }
    }
    return false;
  }

  /** Remove every member of `node`; returns them newest first. */
  removeNode(node: string): Pid[] {
    const removed = this.blockOf(node);
    if (removed.length > 0) {
      this.#entries = this.#entries.filter((pid) => pid.node !== node);
      this.#countLocal(removed, -1);
      this.#changed(true);
    }
    return removed;
  }

  /** Replace `node`'s members by `block` (newest first), placed at the head. */
  replaceBlock(node: string, block: readonly Pid[]): void {
    this.removeNode(node);
    this.pushHead(block);
  }

  #countLocal(pids: readonly Pid[], sign: 1 | -1): void {
    for (const pid of pids) if (pid.node === this.#localNode) this.#localCount += sign;
  }

  #changed(changed: boolean): void {
    if (!changed) return;
    this.#members = undefined;
    this.#local = undefined;
    this.#distinct = undefined;
    this.#distinctLocal = undefined;
  }
}

function distinct(pids: readonly Pid[]): readonly Pid[] {
  const seen = new Set<string>();
  const out: Pid[] = [];
  for (const pid of pids) {
    const key = pid.toString();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(pid);
  }
  return out.length === pids.length ? pids : Object.freeze(out);
}

/** Same pids in the same order. */
export function samePidSequence(a: readonly Pid[], b: readonly Pid[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!samePid(a[i] as Pid, b[i] as Pid)) return false;
  return true;
}

/**
 * Multiset difference between a node's old and new block: `added` in the new block's order,
 * `removed` in the old block's order, each pid once per occurrence gained or lost.
 */
export function multisetDiff(oldBlock: readonly Pid[], newBlock: readonly Pid[]): { added: Pid[]; removed: Pid[] } {
  const oldCounts = new Map<string, number>();
  for (const pid of oldBlock) oldCounts.set(pid.toString(), (oldCounts.get(pid.toString()) ?? 0) + 1);
  const added: Pid[] = [];
  const keptCounts = new Map<string, number>();
  for (const pid of newBlock) {
    const key = pid.toString();
    const left = oldCounts.get(key) ?? 0;
    if (left > 0) {
      oldCounts.set(key, left - 1);
      keptCounts.set(key, (keptCounts.get(key) ?? 0) + 1);
    } else {
      added.push(pid);
    }
  }
  const removed: Pid[] = [];
  for (const pid of oldBlock) {
    const key = pid.toString();
    const kept = keptCounts.get(key) ?? 0;
    if (kept > 0) keptCounts.set(key, kept - 1);
    else removed.push(pid);
  }
  return { added, removed };
}
