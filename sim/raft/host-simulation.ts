// A seeded simulation of the real Raft host (raft/host): N hosts on one virtual clock, each with
// a simulated disk (writes durable only after a random latency; a crash loses every write not
// yet durable) over the shared fault model (loss, delay, reordering, partitions), with crashes
// and restarts from the durable state, client proposals from every node, and snapshots. It
// checks as it runs: at most one leader per term, every node's applied sequence a prefix of
// one history, nothing applied twice; and at the end, after healing: a proposal commits within
// a bound, every acknowledged proposal is applied exactly once everywhere, no plain failure is
// applied. Same seed, same run.
import { pack, unpack } from 'msgpackr';
import type { NodeEvent } from '../../internode/index.js';
import { RaftHost, type RaftGroup, type RaftTransport, type Tenant } from '../../raft/host/index.js';
import { MemoryLogStore, type GroupWrite, type LogStore } from '../../raft/store/index.js';
import type { Snapshot } from '../../raft/index.js';
import { VirtualClock, seededRandom, type Random } from '../../runtime/index.js';
import { FaultModel, type NetworkFaults } from '../network.js';

export interface RaftHostSimOptions {
  readonly seed: number;
  /** Voters: 3 or 5. */
  readonly nodes?: number;
  /** Virtual ms of chaos. */
  readonly chaosMs?: number;
  /** Virtual ms allowed after healing for a proposal to commit and every node to converge. */
  readonly livenessMs?: number;
  readonly crashes?: boolean;
  readonly faults?: NetworkFaults;
  /** Largest disk latency (ms). */
  readonly diskMaxMs?: number;
  /** Applied entries between snapshots. */
  readonly snapshotEvery?: number;
  /** DELIBERATELY BROKEN: the disk reports writes durable before they are. Tests only. */
  readonly unsafeLyingDisk?: boolean;
}

export interface RaftHostSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violation: string | null;
  readonly stats: {
    readonly proposals: number;
    readonly acked: number;
    readonly indeterminate: number;
    readonly failed: number;
    readonly crashes: number;
    readonly partitions: number;
    readonly applied: number;
    /** Nodes that took or installed a snapshot. */
    readonly nodesWithSnapshot: number;
  };
}

const DEFAULT_FAULTS: NetworkFaults = { lossRate: 0.02, duplicateRate: 0, minDelay: 1, maxDelay: 12, meanDelay: 3 };
const GROUP = 'sim';
/** Client proposals in flight at once (across the cluster). */
const MAX_CLIENT_IN_FLIGHT = 32;

/** Records applied ids; applying one twice is a violation (a command is proposed once). */
class IdTenant implements Tenant<number> {
  ids: string[] = [];
  readonly #seen = new Set<string>();
  constructor(private readonly violated: (what: string) => void) {}
  apply(command: Uint8Array): number {
    const id = unpack(command) as string;
    if (this.#seen.has(id)) this.violated(`applied twice: ${id}`);
    this.#seen.add(id);
    this.ids.push(id);
    return this.ids.length;
  }
  snapshot(): Uint8Array {
    return pack(this.ids);
  }
  restore(image: Uint8Array): void {
    this.ids = unpack(image) as string[];
    this.#seen.clear();
    for (const id of this.ids) this.#seen.add(id);
  }
}

/**
 * A disk over a durable memory store: each write becomes durable after a random latency, in
 * order; `crash()` fails every write not yet durable (the host dies with them).
 */
class SimDisk implements LogStore {
  #lastDue = 0;
  #crashed = false;
  readonly #pending = new Set<(error: Error) => void>();
  constructor(
    private readonly durable: MemoryLogStore,
    private readonly clock: VirtualClock,
    private readonly random: Random,
    private readonly maxMs: number,
    private readonly lying: boolean,
  ) {}
  groups() {
    return this.durable.groups();
  }
  load(group: string) {
    return this.durable.load(group);
  }
  persist(writes: readonly GroupWrite[]): Promise<void> {
    const latency = this.random.int(this.maxMs + 1);
    const written = this.#later(latency, () => this.durable.persist(writes));
    if (!this.lying) return written;
    written.catch(() => {}); // lost in a crash, after it was reported durable
    return Promise.resolve();
  }
  saveSnapshot(group: string, snapshot: Snapshot, keepFrom?: number): Promise<void> {
    return this.#later(this.random.int(this.maxMs + 1), () => this.durable.saveSnapshot(group, snapshot, keepFrom));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  crash(): void {
    this.#crashed = true;
    for (const fail of [...this.#pending]) fail(new Error('crashed'));
  }
  #later(latency: number, write: () => Promise<void>): Promise<void> {
    if (this.#crashed) return Promise.reject(new Error('crashed'));
    const due = Math.max(this.#lastDue, this.clock.now() + latency);
    this.#lastDue = due;
    return new Promise((done, fail) => {
      const failNow = (e: Error) => {
        this.#pending.delete(failNow);
        fail(e);
      };
      this.#pending.add(failNow);
      this.clock.setTimer(due - this.clock.now(), () => {
        if (!this.#pending.delete(failNow)) return; // crashed meanwhile: never durable
        write().then(done, fail);
      });
    });
  }
}

/** One simulated node: its durable state survives crashes; the rest is its current incarnation. */
export interface SimNode<T extends Tenant> {
  readonly name: string;
  readonly durable: MemoryLogStore;
  incarnation: number;
  alive: boolean;
  disk: SimDisk | null;
  host: RaftHost | null;
  tenant: T | null;
  group: RaftGroup<T> | null;
  handler: ((from: string, body: unknown) => void) | null;
  readonly listeners: Set<(e: NodeEvent) => void>;
}

/** What the harness hands a workload. */
export interface SimContext<T extends Tenant> {
  readonly clock: VirtualClock;
  /** The workload's own seeded random source. */
  readonly random: Random;
  readonly nodes: ReadonlyMap<string, SimNode<T>>;
  /** Records a violation (the first one wins). */
  fail(what: string): void;
}

/**
 * The clients and checks of one simulation over the host harness: what runs on every node (the
 * tenant), what clients do every 10 virtual ms, what is checked as it runs and at the end.
 */
export interface SimWorkload<T extends Tenant> {
  makeTenant(node: string, fail: (what: string) => void): T;
  /** Once every node booted, before the chaos (e.g. define a KV space). */
  setup?(ctx: SimContext<T>): Promise<void>;
  /** Client activity of one 10 ms step. */
  step(ctx: SimContext<T>): void;
  /** Checks after each step. */
  check(ctx: SimContext<T>): void;
  /** After healing: whether every node has caught up and every client call ended. */
  converged(ctx: SimContext<T>): boolean;
  /** The end-of-run checks, once converged. */
  finish(ctx: SimContext<T>): void;
  stats(): Record<string, number>;
}

export async function runRaftHostSimulation(options: RaftHostSimOptions): Promise<RaftHostSimResult> {
  return runHostSimulation(options, idWorkload()) as Promise<RaftHostSimResult>;
}

/** The proposal workload: unique ids proposed from every node, checked as one applied history. */
function idWorkload(): SimWorkload<IdTenant> {
  const stats = { proposals: 0, acked: 0, indeterminate: 0, failed: 0 };
  const acked = new Set<string>();
  const failed = new Map<string, string>();
  const history: string[] = [];
  const checked = new Map<IdTenant, number>();
  let inFlight = 0;
  let nextId = 0;
  let committed = false;
  let finalStarted = false;
  let attempt = 0;
  return {
    makeTenant: (node, fail) => new IdTenant((what) => fail(`${node}: ${what}`)),
    step(ctx) {
      const alive = [...ctx.nodes.values()].filter((n) => n.alive);
      if (alive.length === 0 || inFlight >= MAX_CLIENT_IN_FLIGHT || !ctx.random.chance(0.5)) return;
      const node = ctx.random.pick(alive);
      const incarnation = node.incarnation;
      const id = `p${++nextId}`;
      stats.proposals++;
      inFlight++;
      node.group!.propose(pack(id), { timeout: 2_000 }).then(
        () => {
          inFlight--;
          stats.acked++;
          acked.add(id);
        },
        (error: { code?: string }) => {
          inFlight--;
          // The caller lived on the node: if the node died, so did the caller's knowledge.
          if (!node.alive || node.incarnation !== incarnation) return;
          if (error.code === 'ERR_RAFT_INDETERMINATE') stats.indeterminate++;
          else {
            stats.failed++;
            failed.set(id, error.code ?? '?');
          }
        },
      );
    },
    check(ctx) {
      for (const node of ctx.nodes.values()) {
        if (!node.alive) continue;
        const ids = node.tenant!.ids;
        for (let i = checked.get(node.tenant!) ?? 0; i < ids.length; i++) {
          if (i < history.length && history[i] !== ids[i])
            ctx.fail(`${node.name} applied ${ids[i]} at ${i + 1}, the history has ${history[i]}`);
          if (i >= history.length) history.push(ids[i]!);
        }
        checked.set(node.tenant!, ids.length);
      }
    },
    converged(ctx) {
      if (!finalStarted) {
        finalStarted = true;
        const tryFinal = (): void =>
          void ctx.random
            .pick([...ctx.nodes.values()])
            .group!.propose(pack(`final${++attempt}`), { timeout: 5_000 })
            .then(
              () => (committed = true),
              () => ctx.clock.setTimer(100, tryFinal),
            );
        tryFinal();
      }
      const lengths = [...ctx.nodes.values()].map((n) => n.tenant!.ids.length);
      return committed && inFlight === 0 && lengths.every((l) => l === history.length);
    },
    finish(ctx) {
      const applied = new Set(history);
      for (const id of acked) if (!applied.has(id)) ctx.fail(`acknowledged ${id} is missing`);
      for (const [id, code] of failed) if (applied.has(id)) ctx.fail(`${id} failed plainly (${code}) yet was applied`);
    },
    stats: () => ({ ...stats, applied: history.length }),
  };
}

/** Runs a workload on N real hosts under the fault schedule (see the file's header). */
export async function runHostSimulation<T extends Tenant>(
  options: RaftHostSimOptions,
  workload: SimWorkload<T>,
): Promise<{ seed: number; ok: boolean; violation: string | null; stats: Record<string, number> }> {
  const random = seededRandom(options.seed);
  const chaos = random.fork();
  const clock = new VirtualClock();
  const model = new FaultModel(random.fork(), options.faults ?? DEFAULT_FAULTS);
  const names = Array.from({ length: options.nodes ?? 3 }, (_, i) => `n${i + 1}`);
  const nodes = new Map<string, SimNode<T>>();
  const stats = { crashes: 0, partitions: 0 };
  const leaders = new Map<number, string>();
  let violation: string | null = null;
  const fail = (what: string) => void (violation ??= `${clock.now()} ms: ${what}`);
  const ctx: SimContext<T> = { clock, random: random.fork(), nodes, fail };

  const transportOf = (node: SimNode<T>, incarnation: number): RaftTransport => ({
    handle: (_cls, handler) => void (node.handler = handler),
    subscribe: (listener) => {
      node.listeners.add(listener);
      return () => void node.listeners.delete(listener);
    },
    upNodes: () => names.filter((n) => n !== node.name && nodes.get(n)!.alive),
    sendFrame: (to, _cls, body) => {
      const target = nodes.get(to);
      if (!node.alive || node.incarnation !== incarnation || target === undefined || !target.alive) return 'no-route';
      const bytes = pack(body);
      const targetIncarnation = target.incarnation;
      for (const delay of model.route(node.name, to, { stream: true })) {
        clock.setTimer(delay, () => {
          if (!model.arrive(node.name, to) || !node.alive || node.incarnation !== incarnation) return;
          if (!target.alive || target.incarnation !== targetIncarnation) return;
          try {
            target.handler?.(node.name, unpack(bytes));
          } catch (error) {
            fail(`${to} threw on a frame: ${(error as Error).message}`);
          }
        });
      }
      return 'queued';
    },
  });

  const emit = (to: SimNode<T>, e: NodeEvent) => {
    for (const l of to.listeners) l(e);
  };

  async function boot(node: SimNode<T>): Promise<void> {
    node.incarnation++;
    node.alive = true;
    node.handler = null;
    node.listeners.clear();
    node.disk = new SimDisk(
      node.durable,
      clock,
      random.fork(),
      options.diskMaxMs ?? 10,
      options.unsafeLyingDisk === true,
    );
    node.host = new RaftHost({
      self: node.name,
      store: node.disk,
      clock,
      transport: transportOf(node, node.incarnation),
      random: random.fork(),
    });
    node.tenant = workload.makeTenant(node.name, fail);
    node.group = await node.host.addGroup({
      id: GROUP,
      tenant: node.tenant,
      bootstrap: { voters: names, learners: [] },
      snapshotEvery: options.snapshotEvery ?? 64,
      membership: 'fixed',
    });
    for (const other of nodes.values()) {
      if (other === node || !other.alive) continue;
      emit(other, { type: 'up', node: node.name, incarnation: node.incarnation, address: '' });
      emit(node, { type: 'up', node: other.name, incarnation: other.incarnation, address: '' });
    }
  }

  function crash(node: SimNode<T>): void {
    stats.crashes++;
    node.alive = false;
    node.disk!.crash();
    void node.host!.stop();
    for (const other of nodes.values())
      if (other.alive)
        emit(other, { type: 'down', node: node.name, incarnation: node.incarnation, reason: 'disconnected' });
  }

  function check(): void {
    for (const node of nodes.values()) {
      if (!node.alive) continue;
      const st = node.group!.status();
      if (st.role === 'leader') {
        const other = leaders.get(st.term);
        if (other !== undefined && other !== node.name) fail(`two leaders in term ${st.term}: ${other}, ${node.name}`);
        leaders.set(st.term, node.name);
      }
    }
    workload.check(ctx);
  }

  // ------------------------------------------------------------------ the run
  for (const name of names) {
    const node: SimNode<T> = {
      name,
      durable: new MemoryLogStore(),
      incarnation: 0,
      alive: false,
      disk: null,
      host: null,
      tenant: null,
      group: null,
      handler: null,
      listeners: new Set(),
    };
    nodes.set(name, node);
  }
  try {
    for (const node of nodes.values()) await boot(node);
    await workload.setup?.(ctx);
    const chaosMs = options.chaosMs ?? 10_000;
    const crashes = options.crashes ?? true;
    const restarting: Promise<void>[] = [];
    for (let t = 0; t < chaosMs && violation === null; t += 10) {
      workload.step(ctx);
      if (crashes && chaos.chance(0.004)) {
        const alive = [...nodes.values()].filter((n) => n.alive);
        if (alive.length > 0) {
          const victim = chaos.pick(alive);
          crash(victim);
          const down = 50 + chaos.int(1_500);
          clock.setTimer(down, () => restarting.push(boot(victim)));
        }
      }
      if (crashes && chaos.chance(0.0008)) {
        // Power loss: every node at once; each loses the writes its disk had not made durable.
        for (const victim of nodes.values()) {
          if (!victim.alive) continue;
          crash(victim);
          clock.setTimer(50 + chaos.int(500), () => restarting.push(boot(victim)));
        }
      }
      if (chaos.chance(0.003)) {
        stats.partitions++;
        const isolated = chaos.pick(names);
        model.isolate(isolated, names);
        clock.setTimer(200 + chaos.int(2_000), () => model.heal());
      }
      await clock.advance(10);
      check();
    }
    // Heal, bring every node back, and wait for a commit and convergence.
    model.heal();
    await Promise.all(restarting);
    for (const node of nodes.values()) if (!node.alive) await boot(node);
    const livenessMs = options.livenessMs ?? 20_000;
    let converged = false;
    for (let t = 0; t < livenessMs && violation === null; t += 10) {
      await clock.advance(10);
      check();
      converged = workload.converged(ctx);
      if (converged) break;
    }
    if (violation === null && !converged) fail(`no convergence within ${livenessMs} ms after healing`);
    if (violation === null) workload.finish(ctx);
  } catch (error) {
    fail(`threw: ${(error as Error).stack ?? String(error)}`);
  } finally {
    for (const node of nodes.values()) if (node.alive) void node.host!.stop();
    await clock.advance(100);
  }
  const nodesWithSnapshot = [...nodes.values()].filter((x) => (x.group?.status().snapshotIndex ?? 0) > 0).length;
  return {
    seed: options.seed,
    ok: violation === null,
    violation,
    stats: { ...stats, ...workload.stats(), nodesWithSnapshot },
  };
}
