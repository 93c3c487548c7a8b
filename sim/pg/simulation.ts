// Seeded simulation of pg cores: random joins, leaves, exits, monitor/demonitor, message
// delivery in random order across links, partitions, node crashes and restarts (new
// incarnation), full queues (small bounded link queues), replays of old messages (duplicates and
// late ones), and time. A model of each node's local memberships is kept beside the cores.
// At checkpoints and after healing it checks:
//   - each node's local memberships equal the model, order included (rule 4);
//   - after healing, every node's view of every group is the union of the live local
//     memberships, and each peer's block keeps that peer's order (rule 13);
//   - each active monitor's snapshot plus events replays to its node's current view;
//   - every node's view of a synced peer is exactly that peer's local state at some version it
//     really had (never a mix of states), even with duplicates, late messages and silent loss.
// A failure names its seed and step; `runSeed(seed)` replays it exactly.
import { PgLimitError, PgNoProcError, PgNotLocalError } from '../../pg/index.js';
import { blockBytes, pidBytes } from '../../pg/size.js';
import type { Group } from '../../pg/index.js';
import { Pid } from '../../runtime/pid.js';
import { seededRandom } from '../../runtime/base.js';
import type { Random } from '../../runtime/base.js';
import { Cluster, multiset, sameCounts } from './cluster.js';
import type { RecordedMonitor } from './cluster.js';

export interface SimOptions {
  readonly steps: number;
  readonly nodes: number;
}

export interface SimResult {
  readonly seed: number;
  readonly failure: string | undefined;
  readonly step: number;
  readonly counters: Record<string, number>;
}

const GROUPS: readonly Group[] = ['g0', 'g1', 'g2', 'g3', 'g4'];

class Model {
  /** node → group → local pids newest first (rule 4). */
  readonly local = new Map<string, Map<Group, Pid[]>>();

  groups(node: string): Map<Group, Pid[]> {
    let groups = this.local.get(node);
    if (groups === undefined) this.local.set(node, (groups = new Map()));
    return groups;
  }

  join(node: string, groups: readonly Group[], pids: readonly Pid[]): void {
    if (pids.length === 0) return;
    for (const g of groups) {
      const list = this.groups(node).get(g) ?? [];
      this.groups(node).set(g, [...pids, ...list]);
    }
  }

  leave(node: string, groups: readonly Group[], pids: readonly Pid[]): 'ok' | 'not_joined' {
    let removed = false;
    for (const g of groups) {
      const list = this.groups(node).get(g);
      if (list === undefined) continue;
      for (const pid of pids) {
        const at = list.findIndex((p) => p.equals(pid));
        if (at >= 0) {
          list.splice(at, 1);
          removed = true;
        }
      }
      if (list.length === 0) this.groups(node).delete(g);
    }
    return removed ? 'ok' : 'not_joined';
  }

  exit(pid: Pid): void {
    const groups = this.groups(pid.node);
    for (const [g, list] of groups) {
      const left = list.filter((p) => !p.equals(pid));
      if (left.length === 0) groups.delete(g);
      else groups.set(g, left);
    }
  }

  restart(node: string): void {
    this.local.delete(node);
  }
}

function fail(message: string): never {
  throw new Error(message);
}

function checkLocal(cluster: Cluster, model: Model, node: string): void {
  const scope = cluster.scope(node);
  const expected = model.groups(node);
  const actualGroups = [...scope.whichLocalGroups()].sort();
  const expectedGroups = [...expected.keys()].sort();
  if (actualGroups.join() !== expectedGroups.join())
    fail(`${node}: local groups ${actualGroups.join()} != model ${expectedGroups.join()}`);
  for (const [g, pids] of expected) {
    const actual = scope.localMembers(g).map(String).join();
    if (actual !== pids.map(String).join())
      fail(`${node}: localMembers(${g}) = [${actual}] != model [${pids.map(String).join()}]`);
  }
}

/** After healing: every view is the union of every node's local memberships. */
function checkConverged(cluster: Cluster, model: Model): void {
  const names = [...cluster.nodes.keys()];
  const allGroups = new Set<Group>();
  for (const n of names) for (const g of cluster.scope(n).whichLocalGroups()) allGroups.add(g);
  for (const n of names) {
    const scope = cluster.scope(n);
    checkLocal(cluster, model, n);
    const known = [...scope.whichGroups()].sort().join();
    if (known !== [...allGroups].sort().join())
      fail(`${n}: whichGroups ${known} != union ${[...allGroups].sort().join()}`);
    for (const g of allGroups) {
      const union = names.flatMap((m) => cluster.scope(m).localMembers(g));
      if (!sameCounts(multiset(scope.members(g)), multiset(union))) {
        fail(`${n}: members(${g}) = [${scope.members(g).map(String).join()}] != union [${union.map(String).join()}]`);
      }
      for (const m of names) {
        const block = scope.members(g).filter((p) => p.node === m);
        const own = cluster.scope(m).localMembers(g);
        if (block.map(String).join() !== own.map(String).join())
          fail(`${n}: block of ${m} in ${g} is out of ${m}'s order`);
      }
    }
  }
}

function checkMonitors(cluster: Cluster, settled: boolean): void {
  const problems = [...cluster.monitorReplayProblems(), ...cluster.peerViewProblems(settled)];
  if (problems.length > 0) fail(problems.slice(0, 3).join('; '));
}

/** Whether a join would take the node's sync past maxSyncBytes (computed here from size.ts). */
function wouldExceedSync(cluster: Cluster, node: string, groups: readonly Group[], pids: readonly Pid[]): boolean {
  const scope = cluster.scope(node);
  const fresh = new Set(groups.filter((g) => scope.localMembers(g).length === 0));
  let bytes = scope.syncBytes + groups.length * pids.length * pidBytes(node);
  for (const g of fresh) bytes += blockBytes(g, 0, node);
  return bytes > scope.limits.maxSyncBytes;
}

function livePids(cluster: Cluster, node: string): Pid[] {
  return [...cluster.node(node).alive.values()];
}

function pickSome<T>(random: Random, items: readonly T[], max: number): T[] {
  const n = 1 + random.int(max);
  return Array.from({ length: n }, () => random.pick(items));
}

export function runSeed(seed: number, options: SimOptions = { steps: 400, nodes: 3 }): SimResult {
  const random = seededRandom(seed);
  const names = Array.from({ length: options.nodes }, (_, i) => String.fromCharCode(97 + i));
  // Odd seeds run without anti-entropy, so convergence must come from the protocol itself
  // (syncs, versioned deltas, gap detection, resync after a full queue) and not from the net.
  const antiEntropy = seed % 2 === 0;
  // Every third seed uses tiny messages, so syncs come in several parts and deltas are cut.
  // A sync must fit an empty queue: 1500 bytes of content is at most ~5 parts of 700 bytes.
  const tinyMessages = seed % 3 === 0;
  const cluster = new Cluster(names, {
    queueCapacity: tinyMessages ? 16 + random.int(10) : 2 + random.int(10),
    limits: tinyMessages ? { maxMessageBytes: 700, maxSyncBytes: 1_500 } : {},
    timings: {
      discoverRetryMs: 50,
      discoverRetryMaxMs: 400,
      blockedRetryMs: 50,
      blockedRetryMaxMs: 400,
      antiEntropyIntervalMs: antiEntropy ? 1_000 : Number.MAX_SAFE_INTEGER,
    },
  });
  const model = new Model();
  const counters: Record<string, number> = {};
  const count = (what: string): void => {
    counters[what] = (counters[what] ?? 0) + 1;
  };
  const monitors: RecordedMonitor[] = [];
  let step = 0;
  try {
    for (; step < options.steps; step++) {
      const node = random.pick(names);
      const roll = random.next();
      if (roll < 0.1) {
        cluster.spawn(node);
        count('spawn');
      } else if (roll < 0.3) {
        const live = livePids(cluster, node);
        if (live.length === 0) continue;
        const groups = pickSome(random, GROUPS, 2);
        const pids = pickSome(random, live, 3);
        const before = cluster.scope(node).version;
        const variant = random.next();
        if (variant < 0.05) {
          // A remote pid inside the list: refused whole.
          const other = random.pick(names.filter((n) => n !== node));
          pids.push(new Pid(other, 1, cluster.node(other).incarnation));
          try {
            cluster.on(node, (s) => s.join(groups, pids));
            fail('join with a remote pid was accepted');
          } catch (err) {
            if (!(err instanceof PgNotLocalError)) throw err;
          }
          if (cluster.scope(node).version !== before) fail('refused join changed the version');
          count('join-remote-refused');
        } else if (tinyMessages && wouldExceedSync(cluster, node, groups, pids)) {
          try {
            cluster.on(node, (s) => s.join(groups, pids));
            fail('join past maxSyncBytes was accepted');
          } catch (err) {
            if (!(err instanceof PgLimitError) || err.limit !== 'maxSyncBytes') throw err;
          }
          if (cluster.scope(node).version !== before) fail('refused join changed the version');
          count('join-limit-refused');
        } else if (variant < 0.1) {
          const dead = new Pid(node, cluster.node(node).nextId++, cluster.node(node).incarnation);
          try {
            cluster.on(node, (s) => s.join(groups, [...pids, dead]));
            fail('join with a dead pid was accepted');
          } catch (err) {
            if (!(err instanceof PgNoProcError)) throw err;
          }
          count('join-dead-refused');
        } else {
          cluster.on(node, (s) => s.join(groups, pids));
          model.join(node, groups, pids);
          count('join');
        }
        checkLocal(cluster, model, node);
      } else if (roll < 0.45) {
        const live = livePids(cluster, node);
        if (live.length === 0) continue;
        const groups = pickSome(random, GROUPS, 2);
        const pids = pickSome(random, live, 3);
        const expected = model.leave(node, groups, pids);
        const actual = cluster.on(node, (s) => s.leave(groups, pids));
        if (actual !== expected) fail(`leave returned ${actual}, model says ${expected}`);
        count('leave');
        checkLocal(cluster, model, node);
      } else if (roll < 0.52) {
        const live = livePids(cluster, node);
        if (live.length === 0) continue;
        const pid = random.pick(live);
        cluster.kill(pid);
        model.exit(pid);
        count('exit');
        checkLocal(cluster, model, node);
      } else if (roll < 0.57) {
        const live = livePids(cluster, node);
        const owner = live.length > 0 && random.chance(0.5) ? random.pick(live) : undefined;
        monitors.push(
          random.chance(0.5)
            ? cluster.monitorScope(node, owner)
            : cluster.monitorGroup(node, random.pick(GROUPS), owner),
        );
        count('monitor');
      } else if (roll < 0.6) {
        const active = monitors.filter(
          (m) => m.active && m.node === node && m.incarnation === cluster.node(node).incarnation,
        );
        if (active.length === 0) continue;
        const m = random.pick(active);
        if (!cluster.demonitor(m)) fail('demonitor of an active monitor returned false');
        if (cluster.on(node, (s) => s.demonitor(m.ref))) fail('second demonitor returned true');
        count('demonitor');
      } else if (roll < 0.85) {
        const to = random.pick(names);
        if (to === node) continue;
        const n = 1 + random.int(5);
        for (let i = 0; i < n; i++) cluster.deliverOne(node, to);
        count('deliver');
      } else if (roll < 0.87) {
        const other = random.pick(names);
        if (other === node) continue;
        cluster.partition(node, other);
        count('partition');
      } else if (roll < 0.9) {
        const other = random.pick(names);
        if (other === node) continue;
        cluster.heal(node, other);
        count('heal');
      } else if (roll < 0.915) {
        cluster.restart(node, random.chance(0.5));
        model.restart(node);
        count('restart');
      } else if (roll < 0.93) {
        // A one-sided flap: this node's failure detector says the other went down and came
        // back (same incarnation); the other side saw nothing, and the link kept its messages.
        const other = random.pick(names);
        if (other === node || !cluster.connected.has(node < other ? `${node}|${other}` : `${other}|${node}`)) continue;
        cluster.on(node, (s) => {
          s.peerDown(other);
          s.peerUp(other, cluster.node(other).incarnation);
        });
        count('flap');
      } else if (roll < 0.97) {
        cluster.tick(random.int(600));
        count('tick');
      } else if (antiEntropy && random.chance(0.3)) {
        // A silent loss the host never reported (a bug below pg): the gap check must keep the
        // view a true past state, and anti-entropy must repair it.
        const to = random.pick(names);
        const queue = cluster.queues.get(`${node}->${to}`);
        if (queue === undefined || queue.length === 0) continue;
        queue.splice(random.int(queue.length), 1);
        count('silent-loss');
      } else {
        // Replay an old message on a link: a duplicate, or a late one from an earlier connection.
        const to = random.pick(names);
        const old = cluster.history.get(`${node}->${to}`);
        if (to === node || old === undefined || old.length === 0) continue;
        cluster.inject(node, to, random.pick(old));
        count('replay-old');
      }
      if (step % 25 === 0) checkMonitors(cluster, false);
    }
    // Heal everything, deliver everything, and let retries (and anti-entropy, if on) run.
    cluster.healAll();
    for (let round = 0; round < 6; round++) {
      cluster.settle();
      cluster.tick(500);
    }
    cluster.settle();
    checkConverged(cluster, model);
    checkMonitors(cluster, true);
  } catch (err) {
    return { seed, failure: err instanceof Error ? (err.stack ?? err.message) : String(err), step, counters };
  }
  for (const name of names) {
    const stats = cluster.scope(name).stats();
    for (const [key, value] of Object.entries(stats))
      counters[`stats.${key}`] = (counters[`stats.${key}`] ?? 0) + value;
  }
  return { seed, failure: undefined, step, counters };
}
