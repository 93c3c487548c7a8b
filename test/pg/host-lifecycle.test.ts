// The pg host's edges: a stopped ProcessGroups refuses every call with ERR_STOPPED (no stale
// reads), reads of a scope that does not run return [] as Erlang's do (whichGroups throws),
// demonitor with a context removes every queued event of the monitor before it returns, and the
// limits pg relies on are checked against internode's at start (ERR_BAD_CONFIG naming both).
import { describe, expect, it } from 'vitest';
import { codesOf, idle, stoppedAfterEach, thrown } from '../host-lifecycle.js';
import {
  DEFAULT_PG_LIMITS,
  ProcessGroups,
  checkPgFitsTransport,
  isPgMessage,
  type PgScopeNotRunningError,
} from '../../pg/index.js';
import { Node, isTroupeError, type LimitConflictError } from '../../runtime/index.js';
import { startMember, until } from '../internode/helpers.js';
import type { Internode } from '../../internode/index.js';

const MIB = 1024 * 1024;
const toStop = stoppedAfterEach();

async function solo(): Promise<{ node: Node; pg: ProcessGroups }> {
  const node = await Node.start({ name: 'solo', incarnation: 1 });
  const pg = ProcessGroups.start({ node });
  toStop.push(node, pg);
  return { node, pg };
}

describe('pg host: after stop()', () => {
  it('every call throws ERR_STOPPED, on ProcessGroups and on a Scope it handed out', async () => {
    const { node, pg } = await solo();
    const p = idle(node);
    pg.join('g', p);
    const scope = pg.scope();
    const extra = pg.startScope('extra');
    await pg.stop();
    const calls: [string, () => unknown][] = [
      ['join', () => pg.join('g', p)],
      ['leave', () => pg.leave('g', p)],
      ['members', () => pg.members('g')],
      ['localMembers', () => pg.localMembers('g')],
      ['whichGroups', () => pg.whichGroups()],
      ['whichLocalGroups', () => pg.whichLocalGroups()],
      ['monitor', () => pg.monitor('g')],
      ['monitorScope', () => pg.monitorScope()],
      ['broadcast', () => pg.broadcast('g', 'x')],
      ['broadcastLocal', () => pg.broadcastLocal('g', 'x')],
      ['startScope', () => pg.startScope('later')],
      ['scope', () => pg.scope()],
      ['scopes', () => pg.scopes()],
      ['scope.join', () => scope.join('g', p)],
      ['scope.members', () => scope.members('g')],
      ['scope.demonitor', () => scope.demonitor(1)],
      ['extra.whichGroups', () => extra.whichGroups()],
    ];
    expect(codesOf(calls)).toEqual(calls.map(([name]) => `${name}: ERR_STOPPED`));
    expect(scope.stats().messagesApplied).toBe(0); // counters stay readable for a last look
    await pg.stop(); // idempotent
  });

  it('a monitor iterator ends (done) at stop, and its demonitor then returns false without throwing', async () => {
    const { node, pg } = await solo();
    const mon = pg.monitor('g');
    const it = mon[Symbol.asyncIterator]();
    pg.join('g', idle(node));
    await pg.stop();
    expect((await it.next()).value).toMatchObject({ kind: 'join', group: 'g' });
    expect((await it.next()).done).toBe(true);
    expect(mon.demonitor()).toBe(false);
  });
});

describe('pg host: a scope that does not run', () => {
  it('members and localMembers read [] (as Erlang), whichGroups and whichLocalGroups throw', async () => {
    const { node, pg } = await solo();
    pg.join('g', idle(node));
    expect(pg.members('g', { scope: 'nope' })).toEqual([]);
    expect(pg.localMembers('g', { scope: 'nope' })).toEqual([]);
    expect(pg.members('g', { scope: 'default' }).length).toBe(1);
    for (const call of [() => pg.whichGroups({ scope: 'nope' }), () => pg.whichLocalGroups({ scope: 'nope' })]) {
      const err = thrown(call) as PgScopeNotRunningError;
      expect(isTroupeError(err, 'ERR_BAD_ARGUMENT')).toBe(true);
      expect(err.scope).toBe('nope');
    }
  });
});

describe('pg host: demonitor(ref, ctx)', () => {
  it('removes every event of the monitor already in the mailbox before it returns, and nothing else', async () => {
    const { node, pg } = await solo();
    let left: unknown[] = [];
    let result: boolean | undefined;
    const watcher = node.spawn(async (ctx) => {
      const other = pg.scope().monitorFrom(ctx, 'h');
      const { ref } = pg.scope().monitorFrom(ctx, 'g');
      await ctx.receive((m) => m === 'go'); // events queue meanwhile: this receive skips them
      result = pg.scope().demonitor(ref, ctx);
      for (;;) {
        try {
          left.push(await ctx.receive({ timeout: 0 }));
        } catch {
          break;
        }
      }
      left = left.map((m) => (isPgMessage(m) ? `pg ${m.ref === other.ref ? 'other' : 'this'}` : m));
    });
    await until(() => node.processInfo(watcher)?.status === 'waiting');
    const p = idle(node);
    pg.join('g', p);
    pg.join('g', p);
    pg.join('h', p);
    pg.leave('g', p);
    node.send(watcher, 'unrelated');
    node.send(watcher, 'go');
    await node.exited(watcher);
    expect(result).toBe(true);
    expect(left).toEqual(['pg other', 'unrelated']);
  });
});

describe('pg host: limits checked against internode at start', () => {
  it('a pg message must be below the frame body limit, a full sync at most half the pg class bytes', () => {
    const transport = { frameBodyBytes: 4 * MIB, pgClassBytes: 16 * MIB };
    expect(() => checkPgFitsTransport(DEFAULT_PG_LIMITS, transport)).not.toThrow();
    const cases: [Partial<typeof transport>, Partial<typeof DEFAULT_PG_LIMITS>, [string, string]][] = [
      [{ pgClassBytes: 8 * MIB }, {}, ['pg maxSyncBytes', 'half the internode pg class bytes']],
      [{ frameBodyBytes: 1 * MIB }, {}, ['pg maxMessageBytes', 'internode MAX_FRAME_BODY_BYTES']],
      [{}, { maxMessageBytes: 4 * MIB }, ['pg maxMessageBytes', 'internode MAX_FRAME_BODY_BYTES']],
      [{}, { maxSyncBytes: 8 * MIB + 1 }, ['pg maxSyncBytes', 'half the internode pg class bytes']],
    ];
    for (const [shrunk, raised, names] of cases) {
      const err = thrown(() =>
        checkPgFitsTransport({ ...DEFAULT_PG_LIMITS, ...raised }, { ...transport, ...shrunk }),
      ) as LimitConflictError;
      expect(isTroupeError(err, 'ERR_BAD_CONFIG')).toBe(true);
      expect(err.limits).toEqual(names);
      expect(err.message).toContain(names[0]);
      expect(err.message).toContain(names[1]);
    }
  });

  it('ProcessGroups.start refuses limits that do not fit the Internode, and leaves nothing registered', async () => {
    const member = await startMember('fit');
    toStop.push(member.node, member.net);
    const net: Internode = member.net;
    const err = thrown(() =>
      ProcessGroups.start({ node: member.node, internode: net, limits: { maxSyncBytes: 9 * MIB } }),
    ) as LimitConflictError;
    expect(isTroupeError(err, 'ERR_BAD_CONFIG')).toBe(true);
    expect(err.limits).toEqual(['pg maxSyncBytes', 'half the internode pg class bytes']);
    // The refused start took no handler: a correct one starts on the same Internode.
    const pg = ProcessGroups.start({ node: member.node, internode: net });
    toStop.push(pg);
    expect(pg.members('g')).toEqual([]);
  });
});
