// A seeded simulation of a raft cluster under attack: hosts with slow disks that lose
// unsynced writes on crash, a network that partitions (also one way), loses, duplicates,
// delays and reorders, ticks that drift between nodes, membership churn, leadership transfers,
// snapshots and compaction, client proposals and reads. The invariants are checked as it
// runs; after the chaos, faults heal and a leader must emerge and commit within a bound.
// Same seed, same run: the trace is byte-identical.

import { RaftEngine, type Message, type RaftLimits, type Ready } from '../../raft/index.js';
import type { UnsafeTestOnlyBreakage } from '../../raft/options.js';
import { SimNetwork, type Delivery, type NetworkFaults } from '../network.js';
import { seededRandom, type Random } from '../../runtime/base.js';
import { Scheduler } from '../scheduler.js';
import { mixEntry, RaftChecker, SimViolation, type ViolationKind } from './checker.js';
import { formatMessage } from './format.js';
import { MemLogStore } from './mem-store.js';

export interface RaftSimOptions {
  readonly seed: number;
  /** Founding voters: 3, 5 or 7. */
  readonly nodes: number;
  /** Extra nodes that membership churn may add (as learners, then voters). */
  readonly spares?: number;
  /** Virtual milliseconds of chaos. */
  readonly chaosMs?: number;
  /** Virtual milliseconds allowed, after healing, for a leader to emerge and commit. */
  readonly livenessMs?: number;
  readonly crashes?: boolean;
  readonly churn?: boolean;
  readonly transfers?: boolean;
  /** Applied entries between snapshots a node takes. */
  readonly snapshotEvery?: number;
  /** Largest disk latency (ms): writes wait this long before they are durable. */
  readonly diskMaxMs?: number;
  /** Collect a text trace of the run (for replay and the determinism test). */
  readonly trace?: boolean;
  /** Check Log Matching across all nodes every this many events. */
  readonly logMatchingEvery?: number;
  readonly limits?: Partial<RaftLimits>;
  /**
   * 'mixed' (default): every kind of fault. 'leaderChurn': frequent crashes and isolation of
   * whoever leads, quick restarts; the schedule of the paper's Figure 8.
   */
  readonly profile?: 'mixed' | 'leaderChurn';
  /** Engine read mode; 'lease' trusts that tick rates differ by less than 2x. */
  readonly readMode?: 'safe' | 'lease';
  /** How far a node's tick period may drift from nominal (0.3: +-30%). */
  readonly maxDrift?: number;
  /** DELIBERATELY BROKEN engine behaviour, to show the checks catch it. Tests only. */
  readonly broken?: UnsafeTestOnlyBreakage;
}

export interface RaftSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violation: { readonly kind: ViolationKind; readonly detail: string; readonly at: number } | null;
  readonly trace: readonly string[];
  readonly stats: {
    readonly events: number;
    readonly steps: number;
    readonly committed: number;
    readonly elections: number;
    readonly maxTerm: number;
    readonly crashes: number;
    readonly snapshotsSent: number;
    readonly configChanges: number;
    readonly transfers: number;
    readonly readsServed: number;
    readonly leaderOldTermCommits: number;
    readonly virtualMs: number;
    readonly network: SimNetwork<Message, SimEvent>['stats'];
  };
}

type SimEvent =
  | Delivery<Message>
  | { readonly kind: 'tick'; readonly node: string; readonly inc: number }
  | { readonly kind: 'disk'; readonly node: string; readonly inc: number }
  | { readonly kind: 'chaos' }
  | { readonly kind: 'client' }
  | { readonly kind: 'read' }
  | { readonly kind: 'restart'; readonly node: string }
  | { readonly kind: 'crashLeader'; readonly node: string; readonly term: number }
  | { readonly kind: 'heal' }
  | { readonly kind: 'probe' };

interface SimNode {
  readonly id: string;
  engine: RaftEngine | null;
  readonly store: MemLogStore;
  inc: number;
  smIndex: number;
  smHash: number;
  lastSnapshot: number;
  tickMs: number;
  /** Largest latency of this node's disk (ms); a chaos action makes one disk very slow. */
  diskMs: number;
  readonly founding: boolean;
}

const TICK_MS = 10;
const SIM_LIMITS: Partial<RaftLimits> = {
  electionTicks: 10,
  heartbeatTicks: 2,
  maxAppendEntries: 8,
  maxAppendBytes: 4096,
  maxInflightMessages: 4,
  maxInflightBytes: 16 * 1024,
  maxUncommittedBytes: 64 * 1024,
  maxEntryBytes: 1024,
  compactionTrailingEntries: 5,
  maxPendingReads: 64,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RaftSimulation {
  private readonly opts: Required<Omit<RaftSimOptions, 'limits' | 'broken'>> &
    Pick<RaftSimOptions, 'limits' | 'broken'>;
  private readonly churnProfile: boolean;
  private readonly random: Random;
  private readonly scheduler = new Scheduler<SimEvent>(200_000);
  private readonly network: SimNetwork<Message, SimEvent>;
  private readonly nodes = new Map<string, SimNode>();
  private readonly ids: string[] = [];
  private readonly founders: string[] = [];
  private readonly checker = new RaftChecker();
  private readonly trace: string[] = [];
  private events = 0;
  private steps = 0;
  private crashes = 0;
  private snapshotsSent = 0;
  private configChanges = 0;
  private transfers = 0;
  private maxTerm = 0;
  private commandSeq = 0;
  private readSeq = 0;
  private healed = false;
  private marker: { index: number; term: number } | null = null;
  private livenessDone = false;
  private readonly chaosEnd: number;
  private readonly limits: Partial<RaftLimits>;

  constructor(options: RaftSimOptions) {
    this.opts = {
      spares: 2,
      chaosMs: 4000,
      livenessMs: 5000,
      crashes: true,
      churn: true,
      transfers: true,
      snapshotEvery: 25,
      diskMaxMs: 20,
      trace: false,
      logMatchingEvery: 400,
      profile: 'mixed',
      readMode: 'safe',
      maxDrift: 0.3,
      ...options,
    };
    this.random = seededRandom(options.seed);
    this.network = new SimNetwork<Message, SimEvent>(this.random.fork(), this.scheduler, this.randomFaults());
    // Flow-control limits vary by seed: one entry per append exposes commit-rule bugs.
    const perAppend = [1, 2, 8][this.random.int(3)] as number;
    this.limits = {
      ...SIM_LIMITS,
      maxAppendEntries: perAppend,
      maxInflightMessages: 1 + this.random.int(4),
      ...options.limits,
    };
    this.chaosEnd = this.opts.chaosMs;
    this.churnProfile = this.opts.profile === 'leaderChurn';
    const total = this.opts.nodes + (this.opts.churn ? this.opts.spares : 0);
    for (let i = 1; i <= total; i++) {
      const id = `n${i}`;
      this.ids.push(id);
      if (i <= this.opts.nodes) this.founders.push(id);
    }
    for (const id of this.ids) {
      const node: SimNode = {
        id,
        engine: null,
        store: new MemLogStore(),
        inc: 0,
        smIndex: 0,
        smHash: 0,
        lastSnapshot: 0,
        tickMs: this.drawTickMs(0.05),
        diskMs: this.opts.diskMaxMs,
        founding: this.founders.includes(id),
      };
      this.nodes.set(id, node);
      this.start(node);
    }
  }

  run(): RaftSimResult {
    this.scheduler.after(this.random.int(100), { kind: 'chaos' });
    this.scheduler.after(5, { kind: 'client' });
    this.scheduler.after(50, { kind: 'read' });
    this.scheduler.at(this.chaosEnd, { kind: 'heal' });
    const deadline = this.chaosEnd + this.opts.livenessMs;
    let violation: RaftSimResult['violation'] = null;
    try {
      while (!this.livenessDone) {
        const at = this.scheduler.peekTime();
        if (at > deadline) {
          throw new SimViolation(
            'liveness',
            `no leader committed a new entry within ${this.opts.livenessMs}ms after healing ` +
              `(${this.describeCluster()})`,
          );
        }
        const ev = this.scheduler.next();
        if (ev === undefined) break;
        this.events++;
        this.handle(ev);
        if (this.events % this.opts.logMatchingEvery === 0) this.checkLogMatching();
      }
      this.checkLogMatching();
    } catch (err) {
      if (!(err instanceof SimViolation)) throw err;
      violation = { kind: err.kind, detail: err.detail, at: this.scheduler.now };
      this.note(`VIOLATION ${err.kind}: ${err.detail}`);
    }
    return {
      seed: this.opts.seed,
      ok: violation === null,
      violation,
      trace: this.trace,
      stats: {
        events: this.events,
        steps: this.steps,
        committed: this.checker.committedMax,
        elections: this.checker.elections,
        maxTerm: this.maxTerm,
        crashes: this.crashes,
        snapshotsSent: this.snapshotsSent,
        configChanges: this.configChanges,
        transfers: this.transfers,
        readsServed: this.checker.readsServed,
        leaderOldTermCommits: this.checker.leaderOldTermCommits,
        virtualMs: this.scheduler.now,
        network: this.network.stats,
      },
    };
  }

  // ---- hosts ---------------------------------------------------------------------------------

  private note(line: string): void {
    if (this.opts.trace) this.trace.push(`${this.scheduler.now} ${line}`);
  }

  private drawTickMs(drift: number): number {
    return Math.max(1, Math.round(TICK_MS * (1 + (this.random.next() * 2 - 1) * drift)));
  }

  private start(node: SimNode): void {
    node.inc++;
    const snap = node.store.snapshot;
    if (snap !== null) {
      const sm = JSON.parse(decoder.decode(snap.data)) as { i: number; h: number };
      node.smIndex = sm.i;
      node.smHash = sm.h;
    } else {
      node.smIndex = 0;
      node.smHash = 0;
    }
    node.lastSnapshot = node.smIndex;
    try {
      node.engine = new RaftEngine({
        id: node.id,
        random: this.random.fork(),
        limits: this.limits,
        bootstrap: node.founding ? { voters: this.founders, learners: [] } : { voters: [], learners: [] },
        initial: node.store.initialState(node.smIndex),
        readMode: this.opts.readMode,
        ...(this.opts.broken ? { unsafeTestOnly: this.opts.broken } : {}),
      });
    } catch (err) {
      throw new SimViolation('engineError', `${node.id} cannot restart from its store: ${(err as Error).message}`);
    }
    this.checker.onRestart(node.id);
    this.network.setDown(node.id, false);
    this.scheduler.after(this.random.int(node.tickMs) + 1, { kind: 'tick', node: node.id, inc: node.inc });
  }

  private crash(node: SimNode): void {
    if (node.engine === null) return;
    this.crashes++;
    const survivors = this.random.chance(0.5) ? 0 : this.random.int(node.store.pending.length + 1);
    this.note(
      `crash ${node.id} (loses ${node.store.pending.length - survivors} of ` +
        `${node.store.pending.length} unsynced writes)`,
    );
    node.store.crash(survivors);
    node.engine = null;
    node.inc++;
    this.network.setDown(node.id, true);
    const downFor = this.churnProfile ? 20 + this.random.int(200) : 100 + this.random.int(900);
    this.scheduler.after(downFor, { kind: 'restart', node: node.id });
  }

  private stepNode(node: SimNode, input: Parameters<RaftEngine['step']>[0]): ReturnType<RaftEngine['step']> | null {
    const engine = node.engine;
    if (engine === null) return null;
    this.steps++;
    const r = engine.step(input);
    if (!r.ok && (r.error.code === 'ERR_RAFT_INVARIANT' || r.error.code === 'ERR_RAFT_HOST_PROTOCOL')) {
      throw new SimViolation('engineError', `${node.id}: ${r.error.code} ${r.error.message}`);
    }
    this.drive(node);
    return r;
  }

  /** Take and act on every pending output of a node. */
  private drive(node: SimNode): void {
    const engine = node.engine;
    if (engine === null) return;
    while (engine.hasReady()) this.act(node, engine, engine.ready());
  }

  private act(node: SimNode, engine: RaftEngine, rd: Ready): void {
    if (rd.write !== null) {
      node.store.begin(rd.write);
      this.scheduler.after(this.random.int(node.diskMs + 1), { kind: 'disk', node: node.id, inc: node.inc });
    }
    for (const ev of rd.events) {
      switch (ev.type) {
        case 'role':
          if (this.opts.trace) this.note(`${node.id} ${ev.role} term=${ev.term}`);
          if (ev.term > this.maxTerm) this.maxTerm = ev.term;
          if (ev.role === 'leader') {
            this.checker.onLeader(node.id, ev.term, engine);
            // leaderChurn: often kill a new leader within moments, before its no-op spreads.
            if (this.churnProfile && !this.healed && this.random.chance(0.5)) {
              this.scheduler.after(this.random.int(30), { kind: 'crashLeader', node: node.id, term: ev.term });
            }
          }
          break;
        case 'commit':
          this.checker.onCommit(node.id, engine, ev.index);
          break;
        case 'leader':
          break;
        case 'progress':
          if (ev.state === 'snapshot') this.snapshotsSent++;
          break;
        default:
          if (this.opts.trace) this.note(`${node.id} ${JSON.stringify(ev)}`);
      }
    }
    for (const m of rd.messages) this.network.send(m.from, m.to, m);
    if (rd.snapshot !== null) {
      const sm = JSON.parse(decoder.decode(rd.snapshot.data)) as { i: number; h: number };
      if (sm.i !== rd.snapshot.meta.index)
        throw new SimViolation('applyOrder', `${node.id} snapshot data/meta mismatch`);
      node.smIndex = sm.i;
      node.smHash = sm.h;
      node.lastSnapshot = sm.i;
      this.checker.onApply(node.id, sm.i, sm.h);
      this.note(`${node.id} installs snapshot ${rd.snapshot.meta.term}/${sm.i}`);
    }
    for (const e of rd.entries) {
      if (e.index !== node.smIndex + 1) {
        throw new SimViolation('applyOrder', `${node.id} applies ${e.index} after ${node.smIndex}`);
      }
      node.smHash = mixEntry(node.smHash, e);
      node.smIndex = e.index;
      this.checker.onApply(node.id, e.index, node.smHash);
    }
    if (rd.snapshot !== null || rd.entries.length > 0) {
      this.steps++;
      engine.step({ type: 'applied', index: node.smIndex });
      if (node.smIndex - node.lastSnapshot >= this.opts.snapshotEvery) this.takeSnapshot(node, engine);
    }
    for (const r of rd.readStates) this.checker.onReadState(node.id, r.readId, r.index);
  }

  private takeSnapshot(node: SimNode, engine: RaftEngine): void {
    const data = encoder.encode(JSON.stringify({ i: node.smIndex, h: node.smHash }));
    this.steps++;
    const r = engine.step({ type: 'snapshotTaken', index: node.smIndex, data });
    if (!r.ok) throw new SimViolation('engineError', `${node.id} snapshotTaken: ${r.error.message}`);
    const meta = engine.snapshotMeta();
    if (meta === null) throw new SimViolation('engineError', `${node.id} took a snapshot but holds none`);
    node.store.storeSnapshot({ meta, data });
    node.lastSnapshot = node.smIndex;
  }

  // ---- events --------------------------------------------------------------------------------

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'deliver': {
        if (!this.network.accept(ev)) return;
        const node = this.nodes.get(ev.to) as SimNode;
        if (this.opts.trace) this.note(formatMessage(ev.message));
        this.stepNode(node, { type: 'message', message: ev.message });
        return;
      }
      case 'tick': {
        const node = this.nodes.get(ev.node) as SimNode;
        if (node.inc !== ev.inc || node.engine === null) return;
        this.stepNode(node, { type: 'tick' });
        this.scheduler.after(node.tickMs, ev);
        return;
      }
      case 'disk': {
        const node = this.nodes.get(ev.node) as SimNode;
        if (node.inc !== ev.inc || node.engine === null) return;
        const id = node.store.completeOne();
        if (id > 0) this.stepNode(node, { type: 'persisted', writeId: id });
        return;
      }
      case 'restart': {
        const node = this.nodes.get(ev.node) as SimNode;
        if (node.engine !== null) return;
        this.note(`restart ${node.id}`);
        this.start(node);
        return;
      }
      case 'crashLeader': {
        const node = this.nodes.get(ev.node) as SimNode;
        if (
          this.healed ||
          node.engine === null ||
          node.engine.currentRole !== 'leader' ||
          node.engine.currentTerm !== ev.term
        )
          return;
        this.crash(node);
        return;
      }
      case 'chaos':
        if (this.healed) return;
        if (this.churnProfile) {
          this.leaderChurn();
          this.scheduler.after(10 + this.random.int(50), ev);
        } else {
          this.chaos();
          this.scheduler.after(50 + this.random.int(250), ev);
        }
        return;
      case 'client':
        this.client();
        this.scheduler.after(5 + this.random.int(25), ev);
        return;
      case 'read':
        if (this.healed) return;
        this.read();
        this.scheduler.after(20 + this.random.int(150), ev);
        return;
      case 'heal':
        this.heal();
        return;
      case 'probe':
        this.probe();
        if (!this.livenessDone) this.scheduler.after(20, ev);
        return;
    }
  }

  private upNodes(): SimNode[] {
    return this.ids.map((id) => this.nodes.get(id) as SimNode).filter((n) => n.engine !== null);
  }

  private leaderNode(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.upNodes()) {
      const e = n.engine as RaftEngine;
      if (e.currentRole === 'leader' && (best === null || e.currentTerm > (best.engine as RaftEngine).currentTerm))
        best = n;
    }
    return best;
  }

  private randomFaults(): NetworkFaults {
    const r = this.random;
    return {
      lossRate: r.chance(0.3) ? 0 : r.next() * 0.15,
      duplicateRate: r.next() * 0.05,
      minDelay: 1,
      maxDelay: 2 + r.int(25),
    };
  }

  private chaos(): void {
    const r = this.random;
    const up = this.upNodes();
    const action = r.int(15);
    switch (action) {
      case 0:
      case 1: {
        const shuffled = [...this.ids].sort(() => r.next() - 0.5);
        const cut = 1 + r.int(shuffled.length - 1);
        const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
        this.network.partition(groups);
        this.note(`partition ${groups.map((g) => g.join(',')).join(' | ')}`);
        return;
      }
      case 2: {
        const a = r.pick(this.ids);
        const b = r.pick(this.ids.filter((x) => x !== a));
        this.network.cut(a, b);
        this.note(`cut one way ${a}>${b}`);
        return;
      }
      case 3:
      case 4:
        this.network.heal();
        this.note('heal partitions');
        return;
      case 5:
        if (this.opts.crashes && up.length > 0) this.crash(r.pick(up));
        return;
      case 6: {
        this.network.faults = this.randomFaults();
        this.note(`faults ${JSON.stringify(this.network.faults)}`);
        return;
      }
      case 7:
      case 8:
        if (this.opts.churn) this.churn();
        return;
      case 9:
        if (this.opts.transfers) this.transfer();
        return;
      case 10: {
        if (up.length === 0) return;
        const n = r.pick(up);
        if (r.chance(0.5)) {
          n.tickMs = this.drawTickMs(this.opts.maxDrift);
          this.note(`drift ${n.id} tick=${n.tickMs}ms`);
        } else {
          // A slow (or recovered) disk: fsyncs that take up to hundreds of milliseconds.
          n.diskMs = r.chance(0.5) ? 50 + r.int(250) : this.opts.diskMaxMs;
          this.note(`disk ${n.id} up to ${n.diskMs}ms`);
        }
        return;
      }
      case 12:
      case 13: {
        // Leader-targeted crash: the freshest state dies first (Figure 8's schedule).
        const l = this.leaderNode();
        if (this.opts.crashes && l !== null) this.crash(l);
        return;
      }
      case 14: {
        // Correlated failure: a majority (or the whole cluster) loses power at once.
        if (!this.opts.crashes) return;
        const count = r.chance(0.5) ? up.length : (this.founders.length >> 1) + 1;
        const victims = [...up].sort(() => r.next() - 0.5).slice(0, count);
        this.note(`power loss on ${victims.map((v) => v.id).join(',')}`);
        for (const v of victims) this.crash(v);
        return;
      }
      default: {
        // A leader-targeted fault: isolate the current leader.
        const l = this.leaderNode();
        if (l !== null) {
          this.network.isolate(l.id, this.ids);
          this.note(`isolate leader ${l.id}`);
        }
      }
    }
  }

  /** The leaderChurn profile: whoever leads is crashed or cut off, and comes back soon. */
  private leaderChurn(): void {
    const r = this.random;
    const l = this.leaderNode();
    const down = this.ids.map((id) => this.nodes.get(id) as SimNode).filter((n) => n.engine === null);
    const roll = r.int(10);
    if (roll === 0) {
      const up = this.upNodes();
      this.note(`power loss on ${up.map((v) => v.id).join(',')}`);
      for (const v of up) this.crash(v);
    } else if (roll === 1 && l !== null) {
      l.diskMs = 20 + r.int(100);
      this.note(`disk ${l.id} up to ${l.diskMs}ms`);
    } else if (roll < 4 && l !== null) this.crash(l);
    else if (roll < 6 && l !== null) {
      this.network.isolate(l.id, this.ids);
      this.note(`isolate leader ${l.id}`);
    } else if (roll < 8) {
      this.network.heal();
      this.note('heal partitions');
    } else if (down.length > 0) {
      const n = r.pick(down);
      this.note(`restart ${n.id}`);
      this.start(n);
    }
  }

  private churn(): void {
    const l = this.leaderNode();
    if (l === null) return;
    const e = l.engine as RaftEngine;
    const m = e.status().membership;
    const r = this.random;
    const outsiders = this.ids.filter((id) => !m.voters.includes(id) && !m.learners.includes(id));
    const options: Array<() => ReturnType<RaftEngine['step']> | null> = [];
    if (outsiders.length > 0)
      options.push(() =>
        this.stepNode(l, { type: 'changeConfig', change: { type: 'addLearner', id: r.pick(outsiders) } }),
      );
    if (m.learners.length > 0) {
      options.push(() =>
        this.stepNode(l, { type: 'changeConfig', change: { type: 'addVoter', id: r.pick(m.learners) } }),
      );
      options.push(() =>
        this.stepNode(l, { type: 'changeConfig', change: { type: 'removeNode', id: r.pick(m.learners) } }),
      );
    }
    if (m.voters.length > 3)
      options.push(() =>
        this.stepNode(l, { type: 'changeConfig', change: { type: 'removeNode', id: r.pick(m.voters) } }),
      );
    if (options.length === 0) return;
    const res = r.pick(options)();
    if (res?.ok) this.configChanges++;
    this.note(`churn on ${l.id}: ${res?.ok ? `appended at ${res.index}` : `refused ${res?.error.code ?? ''}`}`);
  }

  private transfer(): void {
    const l = this.leaderNode();
    if (l === null) return;
    const voters = (l.engine as RaftEngine).status().membership.voters.filter((v) => v !== l.id);
    if (voters.length === 0) return;
    const to = this.random.pick(voters);
    const res = this.stepNode(l, { type: 'transferLeadership', to });
    if (res?.ok) this.transfers++;
    this.note(`transfer ${l.id} -> ${to}: ${res?.ok ? 'started' : (res?.error.code ?? '')}`);
  }

  private client(): void {
    if (this.healed) return;
    const l = this.leaderNode();
    if (l === null) return;
    const n = 1 + this.random.int(3);
    const commands: Uint8Array[] = [];
    for (let i = 0; i < n; i++) commands.push(encoder.encode(`c${++this.commandSeq}`));
    const res = this.stepNode(l, { type: 'propose', commands });
    if (this.opts.trace) this.note(`propose ${n} on ${l.id}: ${res?.ok ? `at ${res.index}` : (res?.error.code ?? '')}`);
  }

  private read(): void {
    const up = this.upNodes();
    if (up.length === 0) return;
    const n = this.random.pick(up);
    const readId = ++this.readSeq;
    this.checker.onRead(readId, this.checker.committedMax);
    this.stepNode(n, { type: 'readIndex', readId });
  }

  private heal(): void {
    this.healed = true;
    this.network.heal();
    this.network.faults = { lossRate: 0, duplicateRate: 0, minDelay: 1, maxDelay: 5 };
    for (const n of this.nodes.values()) {
      n.tickMs = TICK_MS;
      n.diskMs = this.opts.diskMaxMs;
      if (n.engine === null) this.start(n);
    }
    this.note('heal everything; liveness phase');
    this.scheduler.after(1, { kind: 'probe' });
  }

  /** Liveness: after healing, a leader must commit a fresh entry and every voter apply it. */
  private probe(): void {
    const l = this.leaderNode();
    if (this.marker === null) {
      if (l === null) return;
      const res = this.stepNode(l, { type: 'propose', commands: [encoder.encode('marker')] });
      if (res?.ok) this.marker = { index: res.index, term: res.term };
      return;
    }
    const committedTerm = this.committedTermAt(this.marker.index);
    if (committedTerm !== undefined && committedTerm !== this.marker.term) {
      this.marker = null; // overwritten before it committed: propose again
      return;
    }
    if (l === null) return;
    const le = l.engine as RaftEngine;
    if (le.currentTerm > this.marker.term && le.termAt(this.marker.index) !== this.marker.term) {
      this.marker = null; // a newer leader does not hold it: it can never commit
      return;
    }
    const voters = le.status().membership.voters;
    const done = voters.every(
      (v) => (this.nodes.get(v) as SimNode).smIndex >= (this.marker as { index: number }).index,
    );
    if (done && committedTerm === this.marker.term) {
      this.note(`liveness ok: marker ${this.marker.term}/${this.marker.index} applied on ${voters.join(',')}`);
      this.livenessDone = true;
    }
  }

  private committedTermAt(index: number): number | undefined {
    for (const n of this.upNodes()) {
      const e = n.engine as RaftEngine;
      if (e.commitIndex >= index && e.termAt(index) >= 0) return e.termAt(index);
    }
    return undefined;
  }

  private checkLogMatching(): void {
    const live = this.upNodes().map((n) => [n.id, n.engine as RaftEngine] as const);
    this.checker.checkLogMatching(live);
  }

  private describeCluster(): string {
    return this.ids
      .map((id) => {
        const n = this.nodes.get(id) as SimNode;
        const e = n.engine;
        if (e === null) return `${id}:down`;
        const s = e.status();
        return (
          `${id}:${s.role}@${s.term} commit=${s.commit} last=${s.lastIndex} ` +
          `applied=${n.smIndex} voters=${s.membership.voters.join('/')}`
        );
      })
      .join('; ');
  }
}

export function runRaftSimulation(options: RaftSimOptions): RaftSimResult {
  return new RaftSimulation(options).run();
}
