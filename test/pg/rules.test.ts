// Every rule of docs/pg-semantics.md as a named test. Rules that make sense on one node
// run twice: on a single node, and on three nodes (a, b, c) joined by the in-test router, where
// after delivery every node's view must show the same thing. Rules about several nodes run on three.
import { describe, expect, it } from 'vitest';
import { isTroupeError } from '../../runtime/errors.js';
import { Pid } from '../../runtime/pid.js';
import { PgNoProcError, PgNotLocalError } from '../../pg/index.js';
import { Cluster, describeEvents, multiset } from './harness.js';

const keys = (pids: readonly Pid[]): string[] => pids.map((p) => p.toString());

for (const size of [1, 3] as const) {
  const names = size === 1 ? ['a'] : ['a', 'b', 'c'];
  const setup = (): Cluster => {
    const cluster = new Cluster(names);
    cluster.settle();
    return cluster;
  };
  /** Run `check` against every node's view after all messages are delivered. */
  const everywhere = (cluster: Cluster, check: (name: string) => void): void => {
    cluster.settle();
    for (const name of names) check(name);
  };

  describe(`pg rules on ${size === 1 ? 'one node' : 'three nodes'}`, () => {
    it('rule 1: an unknown or emptied group has no members and leaves whichGroups', () => {
      const cluster = setup();
      const p = cluster.spawn('a');
      everywhere(cluster, (n) => {
        expect(cluster.scope(n).members('nobody')).toEqual([]);
        expect(cluster.scope(n).localMembers('nobody')).toEqual([]);
      });
      cluster.on('a', (s) => s.join('g', p));
      everywhere(cluster, (n) => expect(cluster.scope(n).whichGroups()).toEqual(['g']));
      cluster.on('a', (s) => s.leave('g', p));
      everywhere(cluster, (n) => {
        expect(cluster.scope(n).members('g')).toEqual([]);
        expect(cluster.scope(n).whichGroups()).toEqual([]);
      });
    });

    it('rule 2: membership is a multiset; the (k+1)-th leave is not_joined', () => {
      const cluster = setup();
      const p = cluster.spawn('a');
      for (let i = 0; i < 3; i++) cluster.on('a', (s) => s.join('g', p));
      everywhere(cluster, (n) =>
        expect(keys(cluster.scope(n).members('g'))).toEqual([p.toString(), p.toString(), p.toString()]),
      );
      for (let i = 0; i < 3; i++) expect(cluster.on('a', (s) => s.leave('g', p))).toBe('ok');
      expect(cluster.on('a', (s) => s.leave('g', p))).toBe('not_joined');
      everywhere(cluster, (n) => expect(cluster.scope(n).members('g')).toEqual([]));
    });

    it('rule 3: leave reports not_joined for a pid never joined, only in other groups, or not in G', () => {
      const cluster = setup();
      const p = cluster.spawn('a');
      const q = cluster.spawn('a');
      expect(cluster.on('a', (s) => s.leave('g', p))).toBe('not_joined');
      cluster.on('a', (s) => s.join('h', q));
      expect(cluster.on('a', (s) => s.leave('g', q))).toBe('not_joined');
      cluster.on('a', (s) => s.join('g', p));
      expect(cluster.on('a', (s) => s.leave('g', q))).toBe('not_joined');
      everywhere(cluster, (n) => {
        expect(keys(cluster.scope(n).members('g'))).toEqual([p.toString()]);
        expect(keys(cluster.scope(n).members('h'))).toEqual([q.toString()]);
      });
    });

    it('rule 4: members are newest first, a list joins at the head in order, leave removes the most recent', () => {
      const cluster = setup();
      const [p1, p2, p3, p4] = [1, 2, 3, 4].map(() => cluster.spawn('a')) as [Pid, Pid, Pid, Pid];
      cluster.on('a', (s) => s.join('g', [p1, p2, p3]));
      cluster.on('a', (s) => s.join('g', p4));
      everywhere(cluster, (n) => {
        expect(cluster.scope(n).members('g')).toEqual([p4, p1, p2, p3]);
      });
      expect(cluster.scope('a').localMembers('g')).toEqual([p4, p1, p2, p3]);
      // [p2, p1, p2] with p2 leaving once becomes [p1, p2].
      cluster.on('a', (s) => s.join('h', p2));
      cluster.on('a', (s) => s.join('h', p1));
      cluster.on('a', (s) => s.join('h', p2));
      everywhere(cluster, (n) => expect(cluster.scope(n).members('h')).toEqual([p2, p1, p2]));
      cluster.on('a', (s) => s.leave('h', p2));
      everywhere(cluster, (n) => expect(cluster.scope(n).members('h')).toEqual([p1, p2]));
    });

    it('rule 5: a remote pid (alone or in a list) is a typed error naming it, no change; a non-pid: TypeError', () => {
      const cluster = setup();
      const p = cluster.spawn('a');
      const remote = new Pid('elsewhere', 7, 1);
      const oldIncarnation = new Pid('a', p.id, 0);
      const version = cluster.scope('a').version;
      for (const bad of [remote, [p, remote], oldIncarnation]) {
        let caught: unknown;
        try {
          cluster.on('a', (s) => s.join(['g', 'h'], bad));
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(PgNotLocalError);
        expect(isTroupeError(caught, 'ERR_BAD_ARGUMENT')).toBe(true);
        expect((caught as PgNotLocalError).pid.equals(Array.isArray(bad) ? (bad[1] as Pid) : (bad as Pid))).toBe(true);
        expect((caught as Error).message).toContain(Array.isArray(bad) ? remote.toString() : (bad as Pid).toString());
        expect(() => cluster.on('a', (s) => s.leave('g', bad))).toThrow(PgNotLocalError);
      }
      expect(() => cluster.on('a', (s) => s.join('g', 'not a pid' as unknown as Pid))).toThrow(TypeError);
      expect(() =>
        cluster.on('a', (s) => s.join('g', [p, { node: 'a', id: 1, incarnation: 1 }] as unknown as Pid[])),
      ).toThrow(TypeError);
      expect(() => cluster.on('a', (s) => s.join(42 as unknown as string, p))).toThrow(TypeError);
      expect(cluster.scope('a').version).toBe(version);
      everywhere(cluster, (n) => expect(cluster.scope(n).whichGroups()).toEqual([]));
    });

    it('rule 6: any code on the node may join or leave a pid; the caller need not be the pid', () => {
      const cluster = setup();
      const worker = cluster.spawn('a');
      const manager = cluster.spawn('a');
      // The manager joins the worker, then the manager exits: the worker's membership stays.
      cluster.on('a', (s) => s.join('g', worker));
      cluster.kill(manager);
      everywhere(cluster, (n) => expect(cluster.scope(n).members('g')).toEqual([worker]));
      expect(cluster.on('a', (s) => s.leave('g', worker))).toBe('ok');
      everywhere(cluster, (n) => expect(cluster.scope(n).members('g')).toEqual([]));
    });

    it('rule 7: a list leave removes and reports only the pids that were members', () => {
      const cluster = setup();
      const [p1, p2, p3] = [1, 2, 3].map(() => cluster.spawn('a')) as [Pid, Pid, Pid];
      cluster.on('a', (s) => s.join('g', [p1, p3]));
      cluster.settle();
      const monitors = names.map((n) => cluster.monitorGroup(n, 'g'));
      expect(cluster.on('a', (s) => s.leave('g', [p1, p2, p3]))).toBe('ok');
      expect(cluster.on('a', (s) => s.leave('g', [p1, p2]))).toBe('not_joined');
      cluster.settle();
      for (const m of monitors)
        expect(describeEvents(m.events)).toEqual([`leave g [${p1.toString()},${p3.toString()}]`]);
    });

    it('rule 8: join(g, []) changes nothing and creates no empty group', () => {
      const cluster = setup();
      const version = cluster.scope('a').version;
      const monitor = cluster.monitorScope('a');
      cluster.on('a', (s) => s.join('g', []));
      everywhere(cluster, (n) => expect(cluster.scope(n).whichGroups()).toEqual([]));
      expect(cluster.scope('a').version).toBe(version);
      expect(monitor.events).toEqual([]);
    });

    it('rule 9: joining a known-dead pid is a typed noproc error and nothing changes', () => {
      const cluster = setup();
      const live = cluster.spawn('a');
      const dead = cluster.spawn('a');
      cluster.kill(dead);
      expect(() => cluster.on('a', (s) => s.join('g', dead))).toThrow(PgNoProcError);
      let caught: unknown;
      try {
        cluster.on('a', (s) => s.join('g', [live, dead]));
      } catch (err) {
        caught = err;
      }
      expect(isTroupeError(caught, 'ERR_NOPROC')).toBe(true);
      expect((caught as PgNoProcError).pid).toBe(dead);
      everywhere(cluster, (n) => expect(cluster.scope(n).whichGroups()).toEqual([]));
    });

    it('rule 10: an exit removes every membership, one leave [pid] per membership, most recent group first', () => {
      const cluster = setup();
      const p = cluster.spawn('a');
      const other = cluster.spawn('a');
      cluster.on('a', (s) => s.join('g1', p));
      cluster.on('a', (s) => s.join('g2', p));
      cluster.on('a', (s) => s.join('g1', [p, other]));
      cluster.on('a', (s) => s.join('g1', p));
      cluster.settle();
      const monitors = names.map((n) => cluster.monitorScope(n));
      cluster.kill(p);
      cluster.settle();
      const P = p.toString();
      for (const m of monitors) {
        expect(describeEvents(m.events)).toEqual([
          `leave g1 [${P}]`,
          `leave g1 [${P}]`,
          `leave g2 [${P}]`,
          `leave g1 [${P}]`,
        ]);
      }
      everywhere(cluster, (n) => {
        expect(cluster.scope(n).members('g1')).toEqual([other]);
        expect(cluster.scope(n).whichGroups()).toEqual(['g1']);
      });
      cluster.expectMonitorsReplay();
    });

    it('rule 17: monitorScope: snapshot in members order, then every later change; monitor(g) of empty g: []', () => {
      const cluster = setup();
      const [p1, p2] = [cluster.spawn('a'), cluster.spawn('a')];
      cluster.on('a', (s) => s.join('g', [p1, p2]));
      cluster.on('a', (s) => s.join('h', p1));
      cluster.settle();
      for (const n of names) {
        const handle = cluster.scope(n).monitorScope();
        expect([...handle.snapshot.entries()]).toEqual([
          ['g', [p1, p2]],
          ['h', [p1]],
        ]);
        expect(cluster.scope(n).monitor('empty').snapshot).toEqual([]);
      }
      const scopeMonitors = names.map((n) => cluster.monitorScope(n));
      const groupMonitors = names.map((n) => cluster.monitorGroup(n, 'h'));
      cluster.on('a', (s) => s.join('h', p2));
      cluster.on('a', (s) => s.leave('g', p1));
      cluster.settle();
      for (const m of scopeMonitors)
        expect(describeEvents(m.events)).toEqual([`join h [${p2.toString()}]`, `leave g [${p1.toString()}]`]);
      for (const m of groupMonitors) expect(describeEvents(m.events)).toEqual([`join h [${p2.toString()}]`]);
      cluster.expectMonitorsReplay();
    });

    it('rule 18: event pids are exactly those of the operation', () => {
      const cluster = setup();
      const [p1, p2, p3] = [1, 2, 3].map(() => cluster.spawn('a')) as [Pid, Pid, Pid];
      const monitors = names.map((n) => cluster.monitorScope(n));
      cluster.on('a', (s) => s.join('g', p1));
      cluster.on('a', (s) => s.join('g', [p3, p2, p3]));
      cluster.on('a', (s) => s.leave('g', [p2, p3, p1, p1]));
      cluster.settle();
      const [P1, P2, P3] = [p1, p2, p3].map(String);
      for (const m of monitors) {
        expect(describeEvents(m.events)).toEqual([
          `join g [${P1}]`,
          `join g [${P3},${P2},${P3}]`,
          `leave g [${P2},${P3},${P1}]`,
        ]);
      }
      cluster.expectMonitorsReplay();
    });

    it('rule 19: a local change is queued for local monitors before join/leave returns', () => {
      const cluster = setup();
      const p = cluster.spawn('a');
      const scope = cluster.scope('a');
      const { ref } = scope.monitor('g');
      scope.join('g', p);
      expect(describeEvents(scope.takeEvents(ref))).toEqual([`join g [${p.toString()}]`]);
      scope.leave('g', p);
      expect(describeEvents(scope.takeEvents(ref))).toEqual([`leave g [${p.toString()}]`]);
      cluster.settle();
    });

    it('rule 20: several monitors of one process each get their own copy under their own ref', () => {
      const cluster = setup();
      const owner = cluster.spawn('a');
      const p = cluster.spawn('a');
      const scope = cluster.scope('a');
      const m1 = scope.monitorScope(owner);
      const m2 = scope.monitorScope(owner);
      const m3 = scope.monitor('g', owner);
      expect(new Set([m1.ref, m2.ref, m3.ref]).size).toBe(3);
      scope.join('g', p);
      const ready = scope.takeOutputs().readyMonitors;
      expect([...ready].sort()).toEqual([m1.ref, m2.ref, m3.ref].sort());
      for (const ref of [m1.ref, m2.ref, m3.ref])
        expect(describeEvents(scope.takeEvents(ref))).toEqual([`join g [${p.toString()}]`]);
    });

    it('rule 21: demonitor stops at once, drops queued events, false the 2nd time; owner exit ends a monitor', () => {
      const cluster = setup();
      const owner = cluster.spawn('a');
      const p = cluster.spawn('a');
      const scope = cluster.scope('a');
      const { ref } = scope.monitorScope(owner);
      scope.join('g', p);
      expect(scope.demonitor(ref)).toBe(true);
      expect(scope.takeEvents(ref)).toEqual([]);
      expect(scope.demonitor(ref)).toBe(false);
      expect(scope.demonitor(9_999)).toBe(false);
      scope.leave('g', p);
      expect(scope.takeEvents(ref)).toEqual([]);
      const owned = scope.monitor('g', owner);
      scope.join('g', p);
      cluster.kill(owner);
      expect(scope.hasMonitor(owned.ref)).toBe(false);
      expect(scope.takeEvents(owned.ref)).toEqual([]);
      expect(scope.demonitor(owned.ref)).toBe(false);
      // A dead process cannot start a monitor.
      expect(() => scope.monitorScope(owner)).toThrow(PgNoProcError);
    });

    it('rule 22: a process that monitors, joins, then exits disturbs nothing else', () => {
      const cluster = setup();
      const [watcherJoiner, bystander] = [cluster.spawn('a'), cluster.spawn('a')];
      cluster.on('a', (s) => s.join(['g', 'h'], bystander));
      cluster.settle();
      const others = names.map((n) => cluster.monitorScope(n));
      const own = cluster.monitorScope('a', watcherJoiner);
      cluster.on('a', (s) => s.join('g', watcherJoiner));
      cluster.kill(watcherJoiner);
      cluster.settle();
      everywhere(cluster, (n) => {
        expect(cluster.scope(n).members('g')).toEqual([bystander]);
        expect(cluster.scope(n).members('h')).toEqual([bystander]);
      });
      expect(cluster.scope('a').hasMonitor(own.ref)).toBe(false);
      own.active = false;
      const W = watcherJoiner.toString();
      for (const m of others) expect(describeEvents(m.events)).toEqual([`join g [${W}]`, `leave g [${W}]`]);
      cluster.expectMonitorsReplay();
    });
  });
}

describe('pg rules across three nodes', () => {
  const setup = (): Cluster => {
    const cluster = new Cluster(['a', 'b', 'c']);
    cluster.settle();
    return cluster;
  };

  it('rule 10: a remote member exit is seen on every node as one leave per membership', () => {
    const cluster = setup();
    const p = cluster.spawn('b');
    cluster.on('b', (s) => s.join('g', [p, p]));
    cluster.on('b', (s) => s.join('h', p));
    cluster.settle();
    const monitor = cluster.monitorScope('a');
    cluster.kill(p);
    cluster.settle();
    const P = p.toString();
    expect(describeEvents(monitor.events)).toEqual([`leave h [${P}]`, `leave g [${P}]`, `leave g [${P}]`]);
  });

  it('rule 11: node down: one leave per group, all its pids and multiplicity; a group monitor: only its group', () => {
    const cluster = setup();
    const [p1, p2] = [cluster.spawn('b'), cluster.spawn('b')];
    const local = cluster.spawn('a');
    cluster.on('b', (s) => s.join('g', p1));
    cluster.on('b', (s) => s.join('g', p1));
    cluster.on('b', (s) => s.join('g', p2));
    cluster.on('b', (s) => s.join('h', p2));
    cluster.on('a', (s) => s.join('g', local));
    cluster.settle();
    const scopeMonitor = cluster.monitorScope('a');
    const hMonitor = cluster.monitorGroup('a', 'h');
    cluster.disconnect('a', 'b');
    const [P1, P2] = [p1.toString(), p2.toString()];
    expect(describeEvents(scopeMonitor.events)).toEqual([`leave g [${P2},${P1},${P1}]`, `leave h [${P2}]`]);
    expect(describeEvents(hMonitor.events)).toEqual([`leave h [${P2}]`]);
    expect(cluster.scope('a').members('g')).toEqual([local]);
    expect(cluster.scope('a').whichGroups()).toEqual(['g']);
    cluster.expectMonitorsReplay();
  });

  it('rule 12: split nodes change on their own and converge to the same multisets when they meet again', () => {
    const cluster = setup();
    const [pa, pb, pc] = [cluster.spawn('a'), cluster.spawn('b'), cluster.spawn('c')];
    cluster.on('a', (s) => s.join('g', pa));
    cluster.settle();
    cluster.partition('a', 'b');
    cluster.partition('a', 'c');
    cluster.on('a', (s) => s.join('g', pa));
    cluster.on('b', (s) => s.join('g', pb));
    cluster.on('c', (s) => s.join('g', pc));
    cluster.on('a', (s) => s.leave('g', pa));
    cluster.settle();
    expect(cluster.scope('a').members('g')).toEqual([pa]);
    expect(multiset(cluster.scope('b').members('g'))).toEqual(multiset([pb, pc]));
    cluster.healAll();
    cluster.settle();
    const expected = multiset([pa, pb, pc]);
    for (const n of ['a', 'b', 'c']) expect(multiset(cluster.scope(n).members('g'))).toEqual(expected);
  });

  it('rule 13: a sync: one join per group, peer block in its own order; a re-sync notifies only real changes', () => {
    const cluster = new Cluster(['a', 'b']);
    cluster.settle();
    cluster.disconnect('a', 'b');
    const [p1, p2, p3] = [1, 2, 3].map(() => cluster.spawn('b')) as [Pid, Pid, Pid];
    cluster.on('b', (s) => s.join('g', [p3, p1]));
    cluster.on('b', (s) => s.join('g', p2));
    cluster.on('b', (s) => s.join('h', p1));
    const monitor = cluster.monitorScope('a');
    cluster.connect('a', 'b');
    cluster.settle();
    const [P1, P2, P3] = [p1, p2, p3].map(String);
    expect(describeEvents(monitor.events)).toEqual([`join g [${P2},${P3},${P1}]`, `join h [${P1}]`]);
    expect(cluster.scope('a').members('g')).toEqual([p2, p3, p1]);
    // A full re-sync (here: a asks b again, as it does after a broken view) of an unchanged peer
    // notifies nothing.
    monitor.events.length = 0;
    const before = cluster.scope('a').stats().syncsReceived;
    cluster.inject('a', 'b', { t: 'discover', scope: 'default', inc: 1, toInc: 1 });
    cluster.settle();
    expect(cluster.scope('a').stats().syncsReceived).toBeGreaterThan(before);
    expect(monitor.events).toEqual([]);
  });

  it('rule 14: members spans connected nodes, localMembers and whichLocalGroups only this node', () => {
    const cluster = setup();
    const [pa, pb] = [cluster.spawn('a'), cluster.spawn('b')];
    cluster.on('a', (s) => s.join('g', pa));
    cluster.on('b', (s) => s.join(['g', 'h'], pb));
    cluster.settle();
    for (const n of ['a', 'b', 'c']) {
      expect(multiset(cluster.scope(n).members('g'))).toEqual(multiset([pa, pb]));
      expect([...cluster.scope(n).whichGroups()].sort()).toEqual(['g', 'h']);
    }
    expect(cluster.scope('a').localMembers('g')).toEqual([pa]);
    expect(cluster.scope('a').localMembers('h')).toEqual([]);
    expect(cluster.scope('a').whichLocalGroups()).toEqual(['g']);
    expect([...cluster.scope('b').whichLocalGroups()].sort()).toEqual(['g', 'h']);
    expect(cluster.scope('c').whichLocalGroups()).toEqual([]);
  });

  it('rule 15: a change is local at once, remote after delivery; sequential joins give one order everywhere', () => {
    const cluster = setup();
    const [pa, pb, pc] = [cluster.spawn('a'), cluster.spawn('b'), cluster.spawn('c')];
    cluster.on('a', (s) => s.join('g', pa));
    expect(cluster.scope('a').members('g')).toEqual([pa]);
    expect(cluster.scope('b').members('g')).toEqual([]);
    cluster.settle();
    cluster.on('b', (s) => s.join('g', pb));
    cluster.settle();
    cluster.on('c', (s) => s.join('g', pc));
    cluster.settle();
    for (const n of ['a', 'b', 'c']) expect(cluster.scope(n).members('g')).toEqual([pc, pb, pa]);
  });

  it('rule 16: scopes are independent; a scope started later receives the existing members at once', () => {
    const x = new Cluster(['a', 'b'], { scopeName: 'x' });
    const p = x.spawn('a');
    x.on('a', (s) => s.join('g', p));
    x.settle();
    // A message of scope x reaching scope y is dropped and changes nothing.
    const y = new Cluster(['a', 'b'], { scopeName: 'y' });
    y.settle();
    const xSync = { t: 'sync', scope: 'x', inc: 1, toInc: 1, version: 5, part: 0, last: true, groups: [['g', [p]]] };
    y.inject('a', 'b', xSync);
    expect(y.scope('b').members('g')).toEqual([]);
    expect(y.scope('b').stats().droppedMisrouted).toBe(1);
    // Node c starts its scope later: it gets a's members as soon as it is connected.
    const monitorBefore = x.addNode('c');
    const m = x.monitorScope('c');
    x.settle();
    expect(monitorBefore.scope.members('g')).toEqual([p]);
    expect(describeEvents(m.events)).toEqual([`join g [${p.toString()}]`]);
  });

  it("rule 22 across nodes: a monitoring joiner's exit does not disturb the memberships of its node elsewhere", () => {
    const cluster = setup();
    const [w, keep] = [cluster.spawn('b'), cluster.spawn('b')];
    cluster.on('b', (s) => s.join('g', keep));
    cluster.monitorScope('b', w);
    cluster.on('b', (s) => s.join('g', w));
    cluster.kill(w);
    cluster.settle();
    for (const n of ['a', 'b', 'c']) expect(cluster.scope(n).members('g')).toEqual([keep]);
  });
});
