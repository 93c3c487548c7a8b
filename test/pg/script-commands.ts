// The commands of pg's scripted scenarios (test/pg/testdata/*.txt), over the deterministic pg
// cluster of sim/pg: real PgScope cores, one bounded FIFO queue per directed link, messages
// encoded as on the wire. Pids are named by aliases (`spawn a p1` or `spawn a p1..p20`).
//
//   cluster <a,b,...> [queue=N] [max-message=B] [max-sync=B] [anti-entropy=MS]   (no delivery yet)
//   spawn <node> <alias|pA..pB>         join|leave <node> <g1,g2> <aliases|pA..pB>
//   queue [from] [to]                   what waits on each link (or one), in order
//   deliver <from> <to> [n]             drop <from> <to> [n] (lost: never arrives)
//   swap <from> <to> <i> <j>            reorder two waiting messages of a link
//   settle                              deliver everything, printing each message
//   tick <ms>                           view <node>        stats <node>        peers <node>
//   monitor <node> <name> [group]       events <name>      (events since the last `events`)
//   partition <a> <b>                   heal <a> <b>       restart <node>
import { decode } from '../../runtime/codec.js';
import type { Pid } from '../../runtime/index.js';
import type { Group, PgEvent, PgMessage } from '../../pg/index.js';
import { Cluster, type RecordedMonitor } from '../../sim/pg/index.js';
import type { CommandTable } from '../datadriven.js';

export interface PgScriptState {
  cluster: Cluster | undefined;
  readonly aliases: Map<string, Pid>;
  readonly monitors: Map<string, { monitor: RecordedMonitor; shown: number }>;
}

export const newPgScriptState = (): PgScriptState => ({ cluster: undefined, aliases: new Map(), monitors: new Map() });

function clusterOf(s: PgScriptState): Cluster {
  if (s.cluster === undefined) throw new Error('no cluster yet');
  return s.cluster;
}

/** `p1,p3` or `p1..p20` (an alias prefix with a number range). */
function names(list: string): string[] {
  const range = /^([a-z]+)(\d+)\.\.\1?(\d+)$/.exec(list);
  if (range === null) return list.split(',').filter((x) => x !== '');
  const [, prefix, lo, hi] = range as unknown as [string, string, string, string];
  return Array.from({ length: Number(hi) - Number(lo) + 1 }, (_, i) => `${prefix}${Number(lo) + i}`);
}

function alias(s: PgScriptState, pid: Pid): string {
  for (const [name, p] of s.aliases) if (p.equals(pid)) return name;
  return pid.toString();
}

function pids(s: PgScriptState, list: string): Pid[] {
  return names(list).map((n) => {
    const pid = s.aliases.get(n);
    if (pid === undefined) throw new Error(`no pid ${n}`);
    return pid;
  });
}

const pidList = (s: PgScriptState, list: readonly Pid[]): string => list.map((p) => alias(s, p)).join(',');

function describeMessage(s: PgScriptState, m: PgMessage): string {
  switch (m.t) {
    case 'discover':
      return 'discover';
    case 'sync':
      return (
        `sync v=${m.version} part=${m.part}${m.last ? ' last' : ''} ` +
        `[${m.groups.map(([g, ps]) => `${g}:${pidList(s, ps)}`).join(' ')}]`
      );
    case 'delta':
      return `delta ${m.base}..${m.version} ${m.ops.map(([k, g, ps]) => `${k}:${g}:${pidList(s, ps)}`).join(' ')}`;
    default:
      return JSON.stringify(m);
  }
}

function describeEvent(s: PgScriptState, e: PgEvent): string {
  return e.kind === 'overflow' ? 'overflow' : `${e.kind} ${e.group} [${pidList(s, e.pids)}]`;
}

function linkQueue(c: Cluster, from: string, to: string): Buffer[] {
  const q = c.queues.get(`${from}->${to}`);
  if (q === undefined) c.queues.set(`${from}->${to}`, []);
  return c.queues.get(`${from}->${to}`) as Buffer[];
}

function deliver(s: PgScriptState, from: string, to: string, n: number): string[] {
  const c = clusterOf(s);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = linkQueue(c, from, to)[0];
    if (bytes === undefined) break;
    out.push(`${from}>${to} ${describeMessage(s, decode(bytes) as PgMessage)}`);
    c.deliverOne(from, to);
  }
  return out.length > 0 ? out : [`${from}>${to} nothing waits`];
}

export const pgCommands: CommandTable<PgScriptState> = {
  cluster(s, cmd) {
    const nodes = cmd.arg(0, 'nodes').split(',');
    const ae = cmd.num('anti-entropy');
    s.aliases.clear();
    s.monitors.clear();
    s.cluster = new Cluster(nodes, {
      ...(cmd.num('queue') !== undefined ? { queueCapacity: cmd.num('queue') } : {}),
      limits: {
        ...(cmd.num('max-message') !== undefined ? { maxMessageBytes: cmd.num('max-message') } : {}),
        ...(cmd.num('max-sync') !== undefined ? { maxSyncBytes: cmd.num('max-sync') } : {}),
      },
      timings: { antiEntropyIntervalMs: ae ?? Number.MAX_SAFE_INTEGER },
    });
  },
  spawn(s, cmd) {
    const node = cmd.arg(0, 'node');
    return names(cmd.arg(1, 'alias')).map((n) => {
      const pid = clusterOf(s).spawn(node);
      s.aliases.set(n, pid);
      return `${n} = ${pid.toString()}`;
    });
  },
  join(s, cmd) {
    const groups = cmd.arg(1, 'groups').split(',');
    clusterOf(s).on(cmd.arg(0, 'node'), (scope) => scope.join(groups, pids(s, cmd.arg(2, 'pids'))));
  },
  leave(s, cmd) {
    const groups = cmd.arg(1, 'groups').split(',');
    return [clusterOf(s).on(cmd.arg(0, 'node'), (scope) => scope.leave(groups, pids(s, cmd.arg(2, 'pids'))))];
  },
  queue(s, cmd) {
    const c = clusterOf(s);
    const out: string[] = [];
    for (const key of [...c.queues.keys()].sort()) {
      const [from, to] = key.split('->') as [string, string];
      if ((cmd.args[0] ?? from) !== from || (cmd.args[1] ?? to) !== to) continue;
      const q = c.queues.get(key) as Buffer[];
      q.forEach((b, i) => out.push(`${from}>${to} #${i} ${describeMessage(s, decode(b) as PgMessage)}`));
    }
    return out.length > 0 ? out : ['nothing waits'];
  },
  deliver: (s, cmd) => deliver(s, cmd.arg(0, 'from'), cmd.arg(1, 'to'), Number(cmd.args[2] ?? 1)),
  drop(s, cmd) {
    const from = cmd.arg(0, 'from');
    const to = cmd.arg(1, 'to');
    const lost = linkQueue(clusterOf(s), from, to).splice(0, Number(cmd.args[2] ?? 1));
    return lost.map((b) => `${from}>${to} lost ${describeMessage(s, decode(b) as PgMessage)}`);
  },
  swap(s, cmd) {
    const q = linkQueue(clusterOf(s), cmd.arg(0, 'from'), cmd.arg(1, 'to'));
    const [i, j] = [Number(cmd.arg(2, 'i')), Number(cmd.arg(3, 'j'))];
    if (q[i] === undefined || q[j] === undefined) throw new Error(`no message #${i} or #${j}`);
    [q[i], q[j]] = [q[j], q[i]];
  },
  settle(s) {
    const c = clusterOf(s);
    const out: string[] = [];
    for (let moved = true, rounds = 0; moved; rounds++) {
      if (rounds > 10_000) throw new Error('settle did not settle');
      moved = false;
      for (const key of [...c.queues.keys()].sort()) {
        const [from, to] = key.split('->') as [string, string];
        if ((c.queues.get(key)?.length ?? 0) === 0) continue;
        out.push(...deliver(s, from, to, 1));
        moved = true;
      }
    }
    return out;
  },
  tick(s, cmd) {
    clusterOf(s).tick(Number(cmd.arg(0, 'ms')));
  },
  view(s, cmd) {
    const scope = clusterOf(s).scope(cmd.arg(0, 'node'));
    const groups = [...scope.whichGroups()].sort();
    return groups.length === 0 ? ['(no groups)'] : groups.map((g: Group) => `${g}: ${pidList(s, scope.members(g))}`);
  },
  stats(s, cmd) {
    const stats = clusterOf(s).scope(cmd.arg(0, 'node')).stats();
    return [
      Object.entries(stats)
        .filter(([, v]) => v !== 0)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '(all zero)',
    ];
  },
  peers(s, cmd) {
    return clusterOf(s)
      .scope(cmd.arg(0, 'node'))
      .peers()
      .map((p) => `${p.node}/${p.incarnation} ${p.synced ? 'synced' : 'not synced'} v=${p.version}`);
  },
  monitor(s, cmd) {
    const c = clusterOf(s);
    const node = cmd.arg(0, 'node');
    const group = cmd.args[2];
    const monitor = group === undefined ? c.monitorScope(node) : c.monitorGroup(node, group);
    s.monitors.set(cmd.arg(1, 'name'), { monitor, shown: 0 });
  },
  events(s, cmd) {
    const m = s.monitors.get(cmd.arg(0, 'monitor'));
    if (m === undefined) throw new Error(`no monitor ${cmd.args[0]}`);
    const fresh = m.monitor.events.slice(m.shown);
    m.shown = m.monitor.events.length;
    return fresh.length === 0 ? ['(no events)'] : fresh.map((e) => describeEvent(s, e));
  },
  partition(s, cmd) {
    clusterOf(s).partition(cmd.arg(0, 'a'), cmd.arg(1, 'b'));
  },
  heal(s, cmd) {
    clusterOf(s).heal(cmd.arg(0, 'a'), cmd.arg(1, 'b'));
  },
  restart(s, cmd) {
    clusterOf(s).restart(cmd.arg(0, 'node'), true);
  },
};
