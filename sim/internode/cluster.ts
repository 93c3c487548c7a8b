// A simulated cluster of real Internode instances over the in-memory transport, driven entirely
// by one VirtualClock and one seeded random source: deliveries, write loops, timers and fault
// decisions all go through them, so a run is a function of its seed. Faults: message delay and
// reordering across connections, loss, partitions (silent: only the down timeout can tell),
// crashes (abrupt: connections cut, or silent) and restarts with a new incarnation.
import pino from 'pino';
import { Node, VirtualClock } from '../../runtime/index.js';
import { Internode, MemoryNetwork, type NodeEvent } from '../../internode/index.js';
import { seededRandom, type Random } from '../../runtime/base.js';

export const SIM_SECRET = 'simulated-cluster-secret';

export interface SimMember {
  readonly name: string;
  readonly address: string;
  incarnation: number;
  node: Node;
  net: Internode;
  alive: boolean;
}

export interface TraceLine {
  readonly at: number;
  readonly text: string;
}

export interface MembershipSimOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Virtual ms of faults before healing. */
  readonly chaosMs: number;
  /** Virtual ms allowed after healing for membership to converge. */
  readonly settleMs: number;
  readonly lossRate?: number;
  readonly maxDelayMs?: number;
  /** Receives every node's debug log line, prefixed with virtual time and node (for replaying a failure). */
  readonly debug?: (line: string) => void;
}

export class MembershipSim {
  readonly clock = new VirtualClock(0);
  readonly random: Random;
  readonly network: MemoryNetwork;
  readonly members: SimMember[] = [];
  readonly trace: TraceLine[] = [];
  readonly #blocked = new Set<string>();
  readonly #opts: MembershipSimOptions;
  #lossRate = 0;
  #maxDelay = 0;

  constructor(opts: MembershipSimOptions) {
    this.#opts = opts;
    this.random = seededRandom(opts.seed);
    this.network = new MemoryNetwork((fn, delay) => void this.clock.setTimer(delay, fn));
    this.network.faults = {
      blocked: (from, to) => this.#blocked.has(`${hostOf(from)}>${hostOf(to)}`),
      decide: () => {
        if (this.#lossRate > 0 && this.random.chance(this.#lossRate)) return 'drop';
        return this.#maxDelay > 0 ? 1 + this.random.int(this.#maxDelay) : 1;
      },
    };
  }

  log(text: string): void {
    this.trace.push({ at: this.clock.now(), text });
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.#opts.nodes; i++) {
      const name = `n${i}`;
      const m = { name, address: `${name}:7000`, incarnation: 1 } as SimMember;
      this.members.push(m);
      await this.#boot(m);
    }
  }

  async #boot(m: SimMember): Promise<void> {
    m.node = await Node.start({ name: m.name, incarnation: m.incarnation, clock: this.clock });
    const seeds = this.members
      .filter((o) => o !== m)
      .slice(0, 2)
      .map((o) => o.address);
    m.net = await Internode.start({
      node: m.node,
      cluster: 'sim',
      secret: SIM_SECRET,
      listen: m.address,
      seeds,
      transport: this.network.transport(m.address),
      random: this.random,
      defer: (fn) => void this.clock.setTimer(0, fn),
      ...(this.#opts.debug !== undefined ? { logger: this.#debugLogger(m) } : {}),
    });
    m.alive = true;
    m.net.subscribe(
      (e: NodeEvent) =>
        m.alive &&
        this.log(
          `${m.name}@${m.incarnation} ${e.type} ${e.node}@${e.incarnation}${e.type === 'down' ? ` ${e.reason}` : ''}`,
        ),
    );
    this.log(`${m.name} boot @${m.incarnation}`);
  }

  #debugLogger(m: SimMember): pino.Logger {
    const sink = this.#opts.debug!;
    return pino(
      { level: 'debug', base: null, timestamp: false },
      {
        write: (line: string) => {
          const { msg, level: _l, subsystem: _s, node: _n, ...rest } = JSON.parse(line) as Record<string, unknown>;
          sink(`${this.clock.now()} ${m.name}@${m.incarnation}: ${String(msg)} ${JSON.stringify(rest)}`);
        },
      },
    );
  }

  /** A crash: abrupt (the kernel closes its sockets) or silent (it just stops answering). */
  async crash(m: SimMember, abrupt: boolean): Promise<void> {
    if (!m.alive) return;
    m.alive = false;
    this.log(`${m.name} crash ${abrupt ? 'abrupt' : 'silent'}`);
    for (const o of this.members) {
      this.#blocked.add(`${m.name}>${o.name}`);
      this.#blocked.add(`${o.name}>${m.name}`);
    }
    // Abrupt: the kernel resets its connections, so peers see them close at once. Silent: the
    // links just go dark, and only the down timeout can tell.
    if (abrupt) this.network.cut(m.address);
    // The crashed instance stops; everything it tries to say is blocked.
    await m.net.stop();
    await m.node.stop();
  }

  async restart(m: SimMember): Promise<void> {
    if (m.alive) return;
    for (const o of this.members) {
      this.#blocked.delete(`${m.name}>${o.name}`);
      this.#blocked.delete(`${o.name}>${m.name}`);
    }
    m.incarnation++;
    await this.#boot(m);
  }

  partition(a: SimMember, b: SimMember, oneWay: boolean): void {
    this.log(`partition ${a.name}${oneWay ? '->' : '<->'}${b.name}`);
    this.#blocked.add(`${a.name}>${b.name}`);
    if (!oneWay) this.#blocked.add(`${b.name}>${a.name}`);
  }

  heal(): void {
    this.log('heal');
    for (const key of [...this.#blocked]) {
      const [from, to] = key.split('>');
      const fromAlive = this.members.find((m) => m.name === from)?.alive ?? false;
      const toAlive = this.members.find((m) => m.name === to)?.alive ?? false;
      if (fromAlive && toAlive) this.#blocked.delete(key);
    }
    this.#lossRate = 0;
    this.#maxDelay = 0;
  }

  /** Runs the chaos phase: random faults every few hundred virtual ms. */
  async chaos(): Promise<void> {
    this.#lossRate = this.#opts.lossRate ?? 0;
    this.#maxDelay = this.#opts.maxDelayMs ?? 0;
    const end = this.clock.now() + this.#opts.chaosMs;
    while (this.clock.now() < end) {
      await this.clock.advance(200 + this.random.int(800));
      const r = this.random.next();
      const m = this.random.pick(this.members);
      const other = this.random.pick(this.members.filter((o) => o !== m));
      if (r < 0.15) await this.crash(m, this.random.chance(0.5));
      else if (r < 0.35) await this.restart(this.random.pick(this.members.filter((o) => !o.alive).concat([m])));
      else if (r < 0.5) this.partition(m, other, this.random.chance(0.3));
      else if (r < 0.6) this.heal();
    }
  }

  /** Heals everything, restarts crashed nodes, and lets the cluster settle. */
  async settle(): Promise<void> {
    for (const m of this.members) if (!m.alive) await this.restart(m);
    this.heal();
    await this.clock.advance(this.#opts.settleMs);
  }

  /** Every live node sees every other live node up, at its current incarnation, and nothing else up. */
  converged(): string | undefined {
    for (const m of this.members) {
      if (!m.alive) continue;
      const up = new Map(
        m.net
          .members()
          .filter((x) => x.state === 'up')
          .map((x) => [x.node, x.incarnation]),
      );
      for (const o of this.members) {
        if (o === m) continue;
        if (o.alive && up.get(o.name) !== o.incarnation)
          return `${m.name} does not see ${o.name}@${o.incarnation} up (sees ${String(up.get(o.name))})`;
        if (!o.alive && up.has(o.name)) return `${m.name} still sees crashed ${o.name} up`;
      }
    }
    return undefined;
  }

  async stop(): Promise<void> {
    for (const m of this.members) {
      if (!m.alive) continue;
      await m.net.stop();
      await m.node.stop();
    }
  }
}

function hostOf(address: string): string {
  return address.split(':')[0]!;
}

/** Runs one seed end to end; returns the trace and the convergence verdict. */
export async function runMembershipSeed(
  opts: MembershipSimOptions,
): Promise<{ trace: TraceLine[]; failure: string | undefined }> {
  const sim = new MembershipSim(opts);
  await sim.start();
  await sim.clock.advance(2_000);
  await sim.chaos();
  await sim.settle();
  const failure = sim.converged();
  await sim.stop();
  return { trace: sim.trace, failure };
}
