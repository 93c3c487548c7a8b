// Named limits with typed errors (nothing from a refused call changes), monitor queue overflow,
// and the cached immutable reads: one array per group, rebuilt only when that group changes.
import { describe, expect, it } from 'vitest';
import { isTroupeError } from '../../runtime/errors.js';
import { Pid } from '../../runtime/pid.js';
import { DEFAULT_PG_LIMITS, PgLimitError, PgScope } from '../../pg/index.js';
import type { PgLimits } from '../../pg/index.js';

const local = (n: number): Pid => new Pid('a', n, 1);

function scopeWith(limits: Partial<PgLimits>): PgScope {
  return new PgScope({ scope: 'default', node: 'a', incarnation: 1, limits });
}

function expectLimit(fn: () => unknown, limit: keyof PgLimits): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PgLimitError);
  expect(isTroupeError(caught, 'ERR_LIMIT')).toBe(true);
  expect((caught as PgLimitError).limit).toBe(limit);
}

describe('pg limits', () => {
  it('groups per scope: the call that would exceed it is refused whole', () => {
    const scope = scopeWith({ maxGroupsPerScope: 3 });
    scope.join(['g1', 'g2'], local(1));
    expectLimit(() => scope.join(['g3', 'g4'], local(1)), 'maxGroupsPerScope');
    expect(scope.whichGroups()).toEqual(['g1', 'g2']);
    scope.join(['g1', 'g3'], local(1));
    expect(scope.whichGroups()).toEqual(['g1', 'g2', 'g3']);
  });

  it('members per group counts duplicates in a list join', () => {
    const scope = scopeWith({ maxMembersPerGroup: 4 });
    scope.join('g', [local(1), local(2)]);
    expectLimit(() => scope.join('g', [local(3), local(3), local(3)]), 'maxMembersPerGroup');
    expectLimit(() => scope.join(['g', 'g', 'g'], [local(3)]), 'maxMembersPerGroup');
    expect(scope.members('g').length).toBe(2);
    scope.join('g', [local(3), local(3)]);
    expect(scope.members('g').length).toBe(4);
  });

  it('memberships per pid, pids and groups per call, group name length', () => {
    const scope = scopeWith({ maxMembershipsPerPid: 3, maxPidsPerCall: 3, maxGroupsPerCall: 2, maxGroupNameLength: 8 });
    scope.join(['a', 'b'], local(1));
    expectLimit(() => scope.join(['c', 'd'], local(1)), 'maxMembershipsPerPid');
    expectLimit(() => scope.join('g', [local(2), local(3), local(4), local(5)]), 'maxPidsPerCall');
    expectLimit(() => scope.join(['x', 'y', 'z'], local(2)), 'maxGroupsPerCall');
    expectLimit(() => scope.join('123456789', local(2)), 'maxGroupNameLength');
    expect([...scope.whichGroups()]).toEqual(['a', 'b']);
    expect(scope.version).toBe(2);
  });

  it('a join of one pid to one group meets the same limits', () => {
    const scope = scopeWith({ maxGroupsPerScope: 2, maxMembersPerGroup: 2, maxMembershipsPerPid: 3 });
    scope.join('g', local(1));
    scope.join('g', local(2));
    expectLimit(() => scope.join('g', local(3)), 'maxMembersPerGroup');
    scope.join('h', local(1));
    expectLimit(() => scope.join('i', local(3)), 'maxGroupsPerScope');
    scope.join('h', local(1));
    expectLimit(() => scope.join('h', local(1)), 'maxMembersPerGroup');
    scope.leave('g', local(2));
    expectLimit(() => scope.join('g', local(1)), 'maxMembershipsPerPid');
    expect(scope.members('g')).toEqual([local(1)]);
  });

  it('the estimated size of a full sync is bounded: a join past maxSyncBytes is refused whole', () => {
    const scope = scopeWith({ maxSyncBytes: 1_000 });
    const before = scope.syncBytes;
    scope.join('g', [local(1), local(2)]);
    expect(scope.syncBytes).toBeGreaterThan(before);
    expectLimit(
      () =>
        scope.join(
          ['h', 'i'],
          Array.from({ length: 20 }, (_, i) => local(i + 1)),
        ),
      'maxSyncBytes',
    );
    expect([...scope.whichGroups()]).toEqual(['g']);
    scope.leave('g', [local(1), local(2)]);
    expect(scope.syncBytes).toBe(before);
  });

  it('monitors per scope and peers per scope', () => {
    const scope = scopeWith({ maxMonitors: 2, maxPeers: 1 });
    scope.monitorScope(local(1));
    scope.monitor('g', local(1));
    expectLimit(() => scope.monitor('h', local(1)), 'maxMonitors');
    scope.peerUp('b', 1);
    expectLimit(() => scope.peerUp('c', 1), 'maxPeers');
  });

  it('a monitor whose consumer falls behind ends with one overflow event, honestly', () => {
    const scope = scopeWith({ maxQueuedEventsPerMonitor: 3 });
    const { ref } = scope.monitorScope();
    const other = scope.monitor('g');
    for (let i = 0; i < 5; i++) scope.join('g', local(i + 1));
    expect(scope.takeEvents(ref)).toEqual([{ kind: 'overflow' }]);
    expect(scope.hasMonitor(ref)).toBe(false);
    expect(scope.takeEvents(other.ref)).toEqual([{ kind: 'overflow' }]);
    expect(scope.stats().monitorOverflows).toBe(2);
    const fresh = scope.monitorScope();
    scope.leave('g', local(1));
    expect(scope.takeEvents(fresh.ref).length).toBe(1);
  });

  it('limits overrides are validated and defaults are positive integers', () => {
    expect(() => scopeWith({ maxMembersPerGroup: 0 })).toThrow(/positive integer/);
    expect(() => scopeWith({ maxPeers: 1.5 })).toThrow(/positive integer/);
    expect(
      () =>
        new PgScope({ scope: 'x', node: 'a', incarnation: 1, timings: { discoverRetryMs: 10, discoverRetryMaxMs: 5 } }),
    ).toThrow();
    for (const value of Object.values(DEFAULT_PG_LIMITS)) expect(Number.isSafeInteger(value) && value > 0).toBe(true);
  });

  it('remote members beyond a limit are dropped and counted, never thrown', () => {
    const scope = scopeWith({ maxMembersPerGroup: 3 });
    scope.join('g', [local(1), local(2)]);
    scope.peerUp('b', 1);
    const remote = [new Pid('b', 1, 1), new Pid('b', 2, 1)];
    scope.receive('b', {
      t: 'sync',
      scope: 'default',
      inc: 1,
      toInc: 1,
      version: 1,
      part: 0,
      last: true,
      groups: [['g', remote]],
    });
    expect(scope.members('g')).toEqual([remote[0], local(1), local(2)]);
    expect(scope.stats().droppedOverLimit).toBe(1);
    // A message bigger than the limit itself is malformed.
    scope.receive('b', {
      t: 'sync',
      scope: 'default',
      inc: 1,
      toInc: 1,
      version: 2,
      part: 0,
      last: true,
      groups: [['g', [...remote, new Pid('b', 3, 1), new Pid('b', 4, 1)]]],
    });
    expect(scope.stats().droppedMalformed).toBe(1);
  });
});

describe('pg reads', () => {
  it('members and localMembers return the same frozen array until that group changes', () => {
    const scope = scopeWith({});
    scope.join('g', [local(1), local(2)]);
    scope.join('h', local(3));
    const g1 = scope.members('g');
    const gl1 = scope.localMembers('g');
    expect(Object.isFrozen(g1)).toBe(true);
    expect(Object.isFrozen(gl1)).toBe(true);
    expect(scope.members('g')).toBe(g1);
    // A change elsewhere does not rebuild g's view.
    scope.join('h', local(4));
    scope.leave('h', local(3));
    expect(scope.members('g')).toBe(g1);
    expect(scope.localMembers('g')).toBe(gl1);
    scope.join('g', local(5));
    const g2 = scope.members('g');
    expect(g2).not.toBe(g1);
    expect(g2).toEqual([local(5), local(1), local(2)]);
    expect(g1).toEqual([local(1), local(2)]); // an old read never changes under its holder
    expect(() => (g2 as Pid[]).push(local(9))).toThrow(TypeError);
  });

  it('distinctMembers lists each member once, in members order, cached until the group changes', () => {
    const scope = scopeWith({});
    scope.peerUp('b', 1);
    const remote = new Pid('b', 1, 1);
    scope.receive('b', {
      t: 'sync',
      scope: 'default',
      inc: 1,
      toInc: 1,
      version: 2,
      part: 0,
      last: true,
      groups: [['g', [remote, remote]]],
    });
    scope.join('g', [local(1), local(2), local(1)]);
    expect(scope.distinctMembers('g')).toEqual([local(1), local(2), remote]);
    expect(scope.distinctLocalMembers('g')).toEqual([local(1), local(2)]);
    const cached = scope.distinctMembers('g');
    expect(scope.distinctMembers('g')).toBe(cached);
    expect(Object.isFrozen(cached)).toBe(true);
    scope.leave('g', local(2));
    expect(scope.distinctMembers('g')).toEqual([local(1), remote]);
    expect(scope.distinctMembers('none')).toEqual([]);
  });

  it('whichGroups and whichLocalGroups are cached and follow group creation and removal', () => {
    const scope = scopeWith({});
    scope.peerUp('b', 1);
    const w0 = scope.whichGroups();
    expect(scope.whichGroups()).toBe(w0);
    scope.join('g', local(1));
    scope.receive('b', {
      t: 'sync',
      scope: 'default',
      inc: 1,
      toInc: 1,
      version: 1,
      part: 0,
      last: true,
      groups: [['r', [new Pid('b', 1, 1)]]],
    });
    expect([...scope.whichGroups()]).toEqual(['g', 'r']);
    expect([...scope.whichLocalGroups()]).toEqual(['g']);
    scope.leave('g', local(1));
    expect([...scope.whichGroups()]).toEqual(['r']);
    expect(scope.whichLocalGroups()).toEqual([]);
  });

  it('a pid equal in value but another instance is recognised (leave, exit)', () => {
    const scope = scopeWith({});
    scope.join('g', new Pid('a', 1, 1));
    expect(scope.leave('g', Pid.parse('<a.1.1>'))).toBe('ok');
    scope.join('g', new Pid('a', 1, 1));
    scope.processExit(Pid.parse('<a.1.1>'));
    expect(scope.whichGroups()).toEqual([]);
  });
});
