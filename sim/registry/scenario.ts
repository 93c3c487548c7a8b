// The randomized workload of the registry simulation, shared by the CI test (a fixed slice of
// seeds) and the long sweep (sim/sweep.ts registry). One seed = one replayable run.
import { Pid } from '../../runtime/pid.js';
import type { SimNode } from './cluster.js';
import { SimCluster } from './cluster.js';

export interface ScenarioResult {
  readonly seed: number;
  readonly violations: string[];
  readonly converged: boolean;
  /** Virtual ms from the heal to convergence. */
  readonly healMs: number;
  /** Anti-entropy intervals that took. */
  readonly aeIntervals: number;
  readonly registrations: number;
  readonly lostNotices: number;
  readonly restarts: number;
  readonly partitions: number;
  readonly crashes: number;
  readonly linkFlips: number;
  readonly names: number;
}

export const SIM_AE_INTERVAL_MS = 200;
export const SIM_GRACE_MS = 300;
/** Bound on healing: the grace plus this many anti-entropy intervals. */
export const MAX_HEAL_AE_INTERVALS = 25;

export interface ScenarioOptions {
  /** Random workload steps (10 virtual ms each). */
  readonly steps?: number;
  /** Names each node registers up front (bulk state, so shards span several messages). */
  readonly bulkNamesPerNode?: number;
  /** Delta and anti-entropy byte budgets (small ones force chunked shards). */
  readonly budgetBytes?: number;
}

export function runScenario(seed: number, options: ScenarioOptions = {}): ScenarioResult {
  const steps = options.steps ?? 400;
  const sim = new SimCluster({
    seed,
    nodes: 5,
    antiEntropyIntervalMs: SIM_AE_INTERVAL_MS,
    nodeDownGraceMs: SIM_GRACE_MS,
    faults: { loss: 0.1, duplicate: 0.05, maxDelayMs: 40 },
    ...(options.budgetBytes === undefined
      ? {}
      : { maxDeltaBatchBytes: options.budgetBytes, maxAeMessageBytes: options.budgetBytes }),
  });
  const rng = sim.rng.fork();
  for (const node of sim.nodes) {
    for (let i = 0; i < (options.bulkNamesPerNode ?? 0); i++)
      sim.register(node, `bulk-${node.name}-${i}`, sim.spawn(node));
  }
  const names = Array.from({ length: 16 }, (_, i) => `svc-${i}`);
  let restarts = 0;
  let partitions = 0;
  const pickAlive = (node: SimNode): number | undefined => {
    const ids = [...node.alive];
    return ids.length === 0 ? undefined : rng.pick(ids);
  };
  let crashes = 0;
  let linkFlips = 0;
  for (let i = 0; i < steps; i++) {
    const node = rng.pick(sim.live);
    const roll = rng.next();
    if (roll < 0.3) {
      const existing = rng.chance(0.5) ? pickAlive(node) : undefined;
      const pid = existing === undefined ? sim.spawn(node) : pidOf(node, existing);
      sim.register(node, rng.pick(names), pid);
    } else if (roll < 0.4) {
      const own = [...node.core.ownNames().keys()];
      if (own.length > 0) sim.unregister(node, rng.pick(own));
    } else if (roll < 0.48) {
      const id = pickAlive(node);
      if (id !== undefined) sim.exit(node, pidOf(node, id));
    } else if (roll < 0.495) {
      partitions++;
      const groups = rng.int(3) + 1;
      sim.partition(new Map(sim.nodes.map((n) => [n.name, rng.int(groups)])));
    } else if (roll < 0.5) {
      restarts++;
      sim.restart(node);
    } else if (roll < 0.503 && crashes === 0) {
      crashes++;
      sim.crash(node);
    } else if (roll < 0.513) {
      // Cut or restore one link: a and c may both see b while not seeing each other.
      const other = rng.pick(sim.live);
      if (other !== node) {
        linkFlips++;
        sim.setLink(node, other, rng.chance(0.5));
      }
    }
    sim.step();
  }
  // Heal: one partition, no more loss (duplication and reordering stay).
  sim.heal();
  sim.faults = { loss: 0, duplicate: 0.05, maxDelayMs: 40 };
  const healedAt = sim.now;
  // A node that died for good is dropped only after the grace: let every grace run out first.
  sim.run(SIM_GRACE_MS + sim.stepMs);
  const deadline = healedAt + SIM_GRACE_MS + MAX_HEAL_AE_INTERVALS * SIM_AE_INTERVAL_MS;
  while (!sim.converged() && sim.now < deadline) sim.step();
  const converged = sim.converged();
  const healMs = sim.now - healedAt;
  // Stay converged for one more interval (nothing in flight undoes it).
  sim.run(SIM_AE_INTERVAL_MS);
  const violations = sim.finalViolations();
  if (converged && !sim.converged()) violations.push('diverged again after converging');
  if (!converged) violations.push(`not converged ${healMs} ms after healing`);
  return {
    seed,
    violations,
    converged,
    healMs,
    aeIntervals: Math.ceil(healMs / SIM_AE_INTERVAL_MS),
    registrations: sim.registrations,
    lostNotices: sim.lostNotices,
    restarts,
    partitions,
    crashes,
    linkFlips,
    names: (sim.live[0] as SimNode).core.size,
  };
}

function pidOf(node: SimNode, id: number): Pid {
  return new Pid(node.name, id, node.incarnation);
}
