// The JSON views of /v1: plain data read from a running Cluster at the moment of the request.
// A subsystem that is off on this node is reported as `null` (or an empty list), never an error,
// so one view works on every node. Lists are cut at MAX_VIEW_ITEMS and say so (`truncated`).
import type { Cluster } from '../system/index.js';
import type { Pid } from '../runtime/index.js';
import { FRAME_CLASSES } from '../internode/index.js';
import { MAX_VIEW_ITEMS } from './limits.js';

/** Reads a Cluster getter that throws when its subsystem is off: null instead. */
export function optional<T>(get: () => T): T | null {
  try {
    return get();
  } catch {
    return null;
  }
}

/** A membership event as remembered for the views (`at` is wall-clock ms). */
export interface RecentEvent {
  readonly at: number;
  readonly type: 'up' | 'down';
  readonly node: string;
  readonly incarnation: number;
  readonly reason?: string;
}

/** One tier of names as the views see it: the consistent tier plugs in here (AdminServer.addNameTier). */
export interface NameTierView {
  count(): number;
  /** The owner of a name, or null (a string, or any JSON the tier has). */
  whereis?(name: string): unknown;
}

export function statusView(c: Cluster, info: { version: string; startedAt: number; events: readonly RecentEvent[] }) {
  const net = optional(() => c.internode);
  const self = {
    node: c.name,
    incarnation: c.node.incarnation,
    address: c.address,
    state: c.stopped ? 'stopping' : 'up',
    self: true,
  };
  const peers = (net?.members() ?? []).map((m) => ({
    node: m.node,
    incarnation: m.incarnation,
    address: m.address,
    state: m.state,
    connected: m.connected,
    self: false,
  }));
  return {
    node: c.name,
    cluster: c.options.cluster,
    incarnation: c.node.incarnation,
    version: info.version,
    uptimeSeconds: Math.round((Date.now() - info.startedAt) / 100) / 10,
    processes: c.node.stats().processes,
    members: [self, ...peers.slice(0, MAX_VIEW_ITEMS - 1)],
    truncated: peers.length > MAX_VIEW_ITEMS - 1,
    events: info.events,
  };
}

export function raftView(c: Cluster) {
  const raft = optional(() => c.raft);
  if (raft === null) return { node: c.name, enabled: false, groups: [] };
  const groups = Object.entries(raft.statusAll()).map(([id, s]) => ({
    id,
    role: s.role,
    term: s.term,
    leader: s.leader,
    commit: s.commit,
    applied: s.tenantApplied,
    applyLag: Math.max(0, s.commit - s.tenantApplied),
    lastIndex: s.lastIndex,
    voters: s.membership.voters,
    learners: s.membership.learners,
    snapshot: { index: s.snapshotIndex },
    // Known on the leader only: how far each member's log trails the leader's.
    peers: s.peers.map((p) => ({
      id: p.id,
      voter: p.voter,
      match: p.match,
      lag: Math.max(0, s.lastIndex - p.match),
      state: p.state,
      active: p.recentActive,
    })),
  }));
  return { node: c.name, enabled: true, groups };
}

export function pgView(c: Cluster) {
  const pg = optional(() => c.pg);
  if (pg === null) return { node: c.name, enabled: false, scopes: [] };
  const scopes = pg.scopes().map((name) => {
    const scope = pg.scope(name);
    const all = scope.whichGroups();
    const groups = all.slice(0, MAX_VIEW_ITEMS).map((g) => ({
      group: g,
      members: scope.members(g).length,
      local: scope.localMembers(g).length,
    }));
    return { scope: name, groups, truncated: all.length > MAX_VIEW_ITEMS };
  });
  return { node: c.name, enabled: true, scopes };
}

export function namesView(c: Cluster, tiers: ReadonlyMap<string, NameTierView>) {
  const counts: Record<string, number | null> = {};
  for (const [tier, view] of tiers) counts[tier] = optional(() => view.count());
  return { node: c.name, tiers: counts };
}

/** Where one name is bound, per tier (null where it is not). */
export function nameLookup(name: string, tiers: ReadonlyMap<string, NameTierView>) {
  const owners: Record<string, unknown> = {};
  for (const [tier, view] of tiers) owners[tier] = optional(() => view.whereis?.(name) ?? null);
  return { name, owners };
}

/** The built-in tiers: local names on this node, and the eventual registry. */
export function builtInTiers(c: Cluster): Map<string, NameTierView> {
  const pidText = (p: Pid | undefined): string | null => (p === undefined ? null : p.toString());
  return new Map<string, NameTierView>([
    ['local', { count: () => c.node.stats().registeredNames, whereis: (n) => pidText(c.node.whereis(n)) }],
    ['eventual', { count: () => c.eventual.size, whereis: (n) => pidText(c.eventual.whereis(n)) }],
  ]);
}

export function queuesView(c: Cluster) {
  const net = optional(() => c.internode);
  if (net === null) return { node: c.name, enabled: false, peers: [], drops: {} };
  const stats = net.stats();
  const members = net.members().slice(0, MAX_VIEW_ITEMS);
  const peers = members.map((m) => ({
    node: m.node,
    state: m.state,
    depth: Object.fromEntries(FRAME_CLASSES.map((cls) => [cls, net.queued(m.node, cls)])),
  }));
  // Drops are counted per class for the whole node (internode does not keep them per peer).
  const drops = Object.fromEntries(
    FRAME_CLASSES.map((cls) => {
      const d = stats.queues.dropped[cls];
      return [cls, { overflow: d.overflow, discarded: d.discarded, rejected: stats.queues.rejected[cls] }];
    }),
  );
  return { node: c.name, enabled: true, classes: FRAME_CLASSES, peers, drops };
}
