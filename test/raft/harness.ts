// A hand-driven cluster of raft engines for paper tests and scripted interaction tests:
// messages sit in a queue until delivered, writes sit in each node's store until persisted
// (or are persisted at once with autoPersist), partitions drop messages at send time.

import { RaftEngine, type Entry, type Message, type RaftOptions, type Ready, type Snapshot } from '../../raft/index.js';
import { MemLogStore } from '../../sim/raft/mem-store.js';
import { formatEntry, formatMessage } from '../../sim/raft/format.js';
import { seededRandom } from '../../runtime/base.js';

export interface HarnessNode {
  id: string;
  node: RaftEngine;
  store: MemLogStore;
  /** Applied commands in order (decoded as text), plus the last applied index. */
  applied: string[];
  appliedIndex: number;
  up: boolean;
  opts: Partial<RaftOptions>;
  bootstrap: { voters: string[]; learners: string[] };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export const fmtEntry = formatEntry;
export const fmtMessage = formatMessage;

export class Harness {
  readonly nodes = new Map<string, HarnessNode>();
  queue: Message[] = [];
  autoPersist = true;
  /** Directed cuts "a>b": messages from a to b are dropped when sent. */
  readonly cuts = new Set<string>();
  readonly log: string[] = [];
  private seed = 1;

  constructor(private readonly defaults: Partial<RaftOptions> = {}) {}

  add(ids: string[], voters: string[], learners: string[] = [], opts: Partial<RaftOptions> = {}): void {
    for (const id of ids) {
      const o = { ...this.defaults, ...opts };
      const n: HarnessNode = {
        id,
        node: new RaftEngine({ id, random: seededRandom(this.seed++), bootstrap: { voters, learners }, ...o }),
        store: new MemLogStore(),
        applied: [],
        appliedIndex: 0,
        up: true,
        opts: o,
        bootstrap: { voters, learners },
      };
      this.nodes.set(id, n);
    }
  }

  /** Add a node whose durable log holds one entry per given term (data "t<term>i<index>"). */
  addWithLog(id: string, voters: string[], terms: number[], term: number, opts: Partial<RaftOptions> = {}): void {
    const entries: Entry[] = terms.map((t, i) => ({
      kind: 'normal',
      term: t,
      index: i + 1,
      data: enc(`t${t}i${i + 1}`),
    }));
    const store = new MemLogStore();
    store.entries = entries;
    store.hardState = { term, vote: null, commit: 0 };
    const o = { ...this.defaults, ...opts };
    this.nodes.set(id, {
      id,
      node: new RaftEngine({
        id,
        random: seededRandom(this.seed++),
        bootstrap: { voters, learners: [] },
        initial: store.initialState(0),
        ...o,
      }),
      store,
      applied: [],
      appliedIndex: 0,
      up: true,
      opts: o,
      bootstrap: { voters, learners: [] },
    });
  }

  get(id: string): HarnessNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  engine(id: string): RaftEngine {
    return this.get(id).node;
  }

  /** Take one node's Ready and act on it; returns it (null when there was nothing). */
  process(id: string): Ready | null {
    const n = this.get(id);
    if (!n.up || !n.node.hasReady()) return null;
    const rd = n.node.ready();
    if (rd.write !== null) n.store.begin(rd.write);
    for (const m of rd.messages) {
      if (!this.cuts.has(`${m.from}>${m.to}`)) this.queue.push(m);
    }
    if (rd.snapshot !== null) this.installSnapshot(n, rd.snapshot);
    for (const e of rd.entries) {
      if (e.kind === 'normal') n.applied.push(dec(e.data));
      n.appliedIndex = e.index;
    }
    if (rd.snapshot !== null || rd.entries.length > 0) n.node.step({ type: 'applied', index: n.appliedIndex });
    if (this.autoPersist) this.persist(id);
    return rd;
  }

  /** Process a node until it has nothing left (held messages released by persisting). */
  flush(id: string): void {
    while (this.process(id) !== null);
  }

  private installSnapshot(n: HarnessNode, s: Snapshot): void {
    n.applied = JSON.parse(dec(s.data)) as string[];
    n.appliedIndex = s.meta.index;
  }

  /** Complete pending writes of a node (all, or the oldest `count`) and report them. */
  persist(id: string, count = Infinity): number {
    const n = this.get(id);
    let last = 0;
    for (let i = 0; i < count && n.store.pending.length > 0; i++) last = n.store.completeOne();
    if (last > 0) n.node.step({ type: 'persisted', writeId: last });
    return last;
  }

  /** Take a snapshot of node `id` at its applied index (data: the applied commands). */
  snapshot(id: string): void {
    const n = this.get(id);
    const data = enc(JSON.stringify(n.applied));
    const r = n.node.step({ type: 'snapshotTaken', index: n.appliedIndex, data });
    if (!r.ok) throw r.error;
    const term = n.node.termAt(n.appliedIndex);
    const membership = n.node.status().membership;
    n.store.storeSnapshot({ meta: { index: n.appliedIndex, term, membership }, data });
  }

  /** Deliver queued messages (optionally only those to `to`); returns what was delivered. */
  deliver(to?: string): Message[] {
    const out: Message[] = [];
    const rest: Message[] = [];
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) {
      if (to !== undefined && m.to !== to) {
        rest.push(m);
        continue;
      }
      out.push(m);
      const n = this.nodes.get(m.to);
      if (n !== undefined && n.up) n.node.step({ type: 'message', message: m });
    }
    this.queue = [...rest, ...this.queue];
    return out;
  }

  drop(to?: string): Message[] {
    const dropped = this.queue.filter((m) => to === undefined || m.to === to);
    this.queue = this.queue.filter((m) => !(to === undefined || m.to === to));
    return dropped;
  }

  /** Process and deliver until nothing moves; returns every message delivered. */
  stabilize(limit = 10_000): Message[] {
    const all: Message[] = [];
    for (let round = 0; round < limit; round++) {
      let moved = false;
      for (const id of this.nodes.keys()) {
        if (this.process(id) !== null) moved = true;
      }
      if (this.queue.length > 0) {
        all.push(...this.deliver());
        moved = true;
      }
      if (!moved) return all;
    }
    throw new Error('cluster did not stabilize');
  }

  tick(id: string, n = 1): void {
    for (let i = 0; i < n; i++) this.get(id).node.step({ type: 'tick' });
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const x of this.nodes.values()) if (x.up) x.node.step({ type: 'tick' });
  }

  /** Campaign and stabilize until `id` leads. */
  elect(id: string): void {
    this.get(id).node.step({ type: 'campaign' });
    this.stabilize();
    if (this.engine(id).currentRole !== 'leader') throw new Error(`${id} did not win: ${this.engine(id).currentRole}`);
  }

  propose(id: string, ...cmds: string[]): ReturnType<RaftEngine['step']> {
    return this.engine(id).step({ type: 'propose', commands: cmds.map(enc) });
  }

  isolate(id: string): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cuts.add(`${id}>${other}`);
      this.cuts.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cuts.clear();
  }

  /** Lose everything not durable, then restart from the store. */
  crash(id: string, survivors = 0): void {
    const n = this.get(id);
    n.store.crash(survivors);
    n.up = false;
    this.queue = this.queue.filter((m) => m.to !== id);
  }

  restart(id: string): void {
    const n = this.get(id);
    const snap = n.store.snapshot;
    n.applied = snap !== null ? (JSON.parse(dec(snap.data)) as string[]) : [];
    n.appliedIndex = snap?.meta.index ?? 0;
    n.node = new RaftEngine({
      id,
      random: seededRandom(this.seed++),
      ...n.opts,
      bootstrap: n.bootstrap,
      initial: n.store.initialState(n.appliedIndex),
    });
    n.up = true;
  }
}
