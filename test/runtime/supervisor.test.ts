import { describe, expect, it } from 'vitest';
import {
  startSupervisor,
  whichChildren,
  type ChildSpec,
  type Node,
  type Pid,
  type ProcessContext,
  type TroupeError,
} from '../../runtime/index.js';
import { virtualNode } from './helpers.js';

/** A child that records its starts and stops, and crashes or exits on request. */
function worker(id: string, log: string[], opts: Partial<ChildSpec> = {}): ChildSpec {
  return {
    id,
    ...opts,
    start: (sup: ProcessContext) =>
      sup.spawnLink(
        async (ctx) => {
          log.push(`start ${id}`);
          for (;;) {
            const m = await ctx.receive();
            if (m === 'crash') throw new Error(`${id} crashed`);
            if (m === 'exit-normal') return;
            if (typeof m === 'object' && m !== null && (m as { type?: string }).type === 'EXIT') {
              log.push(`stop ${id}`);
              return ctx.exitSelf((m as { reason: string }).reason);
            }
          }
        },
        { trapExit: true },
      ),
  };
}

async function childPid(node: Node, sup: Pid, id: string): Promise<Pid> {
  const children = await whichChildren(node, sup);
  const pid = children.find((c) => c.id === id)?.pid;
  if (pid === undefined) throw new Error(`no child ${id}`);
  return pid;
}

async function restartedFrom(node: Node, sup: Pid, id: string, old: Pid): Promise<Pid> {
  for (let i = 0; i < 1000; i++) {
    const now = await childPid(node, sup, id).catch(() => undefined);
    if (now !== undefined && !now.equals(old)) return now;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`${id} was not restarted`);
}

describe('supervisor', () => {
  it('one_for_one restarts only the crashed child', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const sup = await startSupervisor(node, {
      strategy: 'one_for_one',
      children: [worker('a', log), worker('b', log)],
    });
    const a = await childPid(node, sup, 'a');
    const b = await childPid(node, sup, 'b');
    node.send(a, 'crash');
    const a2 = await restartedFrom(node, sup, 'a', a);
    expect(a2.equals(a)).toBe(false);
    expect((await childPid(node, sup, 'b')).equals(b)).toBe(true);
    expect(log).toEqual(['start a', 'start b', 'start a']);
  });

  it('one_for_all stops the others in reverse order and restarts all in order', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const sup = await startSupervisor(node, {
      strategy: 'one_for_all',
      children: [worker('a', log), worker('b', log), worker('c', log)],
    });
    const b = await childPid(node, sup, 'b');
    log.length = 0;
    node.send(b, 'crash');
    await restartedFrom(node, sup, 'b', b);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['stop c', 'stop a', 'start a', 'start b', 'start c']);
  });

  it('rest_for_one restarts the crashed child and those started after it', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const sup = await startSupervisor(node, {
      strategy: 'rest_for_one',
      children: [worker('a', log), worker('b', log), worker('c', log)],
    });
    const b = await childPid(node, sup, 'b');
    log.length = 0;
    node.send(b, 'crash');
    await restartedFrom(node, sup, 'b', b);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['stop c', 'start b', 'start c']);
  });

  it('transient children restart only after an abnormal exit; temporary never', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const sup = await startSupervisor(node, {
      strategy: 'one_for_one',
      intensity: 5,
      children: [worker('t', log, { restart: 'transient' }), worker('tmp', log, { restart: 'temporary' })],
    });
    const t = await childPid(node, sup, 't');
    node.send(t, 'crash');
    const t2 = await restartedFrom(node, sup, 't', t);
    const t2Exit = node.exited(t2);
    node.send(t2, 'exit-normal');
    await t2Exit;
    await new Promise((r) => setImmediate(r));
    expect((await whichChildren(node, sup)).find((c) => c.id === 't')?.pid).toBeUndefined();
    const tmp = await childPid(node, sup, 'tmp');
    const tmpExit = node.exited(tmp);
    node.send(tmp, 'crash');
    await tmpExit;
    await new Promise((r) => setImmediate(r));
    expect((await whichChildren(node, sup)).map((c) => c.id)).toEqual(['t']);
    expect(log).toEqual(['start t', 'start tmp', 'start t']);
  });

  it("exits with 'shutdown' once restarts exceed the intensity within the period, stopping its children", async () => {
    const { node, clock } = await virtualNode();
    const log: string[] = [];
    const sup = await startSupervisor(node, {
      strategy: 'one_for_one',
      intensity: 2,
      periodMs: 1000,
      children: [worker('a', log), worker('b', log)],
    });
    const supExit = node.exited(sup);
    // Two crashes spread over more than the period are fine...
    let a = await childPid(node, sup, 'a');
    node.send(a, 'crash');
    a = await restartedFrom(node, sup, 'a', a);
    await clock.advance(1500);
    node.send(a, 'crash');
    a = await restartedFrom(node, sup, 'a', a);
    node.send(a, 'crash');
    a = await restartedFrom(node, sup, 'a', a);
    // ...but a third within one period is one too many.
    const b = await childPid(node, sup, 'b');
    const bExit = node.exited(b);
    node.send(a, 'crash');
    expect(await supExit).toBe('shutdown');
    expect(await bExit).toBe('shutdown');
  });

  it('a child that fails to start at init fails the supervisor and stops the children already started', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const bad: ChildSpec = {
      id: 'bad',
      start: () => {
        throw new Error('cannot start');
      },
    };
    const err = (await startSupervisor(node, { strategy: 'one_for_one', children: [worker('a', log), bad] }).catch(
      (e: unknown) => e,
    )) as TroupeError;
    expect(err.code).toBe('ERR_SUPERVISOR');
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start a', 'stop a']);
    expect(node.stats().processes).toBe(0);
  });

  it('shuts children down in reverse start order when the node stops', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    await startSupervisor(node, {
      strategy: 'one_for_one',
      children: [worker('a', log), worker('b', log), worker('c', log)],
    });
    log.length = 0;
    await node.stop();
    expect(log).toEqual(['stop c', 'stop b', 'stop a']);
    expect(node.stats().processes).toBe(0);
  });

  it('kills a child that ignores shutdown after its shutdown timeout', async () => {
    const { node, clock } = await virtualNode();
    const stubborn: ChildSpec = {
      id: 'stubborn',
      shutdown: 200,
      start: (sup) => sup.spawnLink(async (ctx) => void (await ctx.receive((m) => m === 'never')), { trapExit: true }),
    };
    const sup = await startSupervisor(node, { strategy: 'one_for_one', children: [stubborn] });
    const child = await childPid(node, sup, 'stubborn');
    const childExit = node.exited(child);
    const stopping = node.stop();
    await clock.advance(200);
    expect(await childExit).toBe('killed');
    await stopping;
  });

  it('rejects a spec with duplicate child ids', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const err = (await startSupervisor(node, {
      strategy: 'one_for_one',
      children: [worker('x', log), worker('x', log)],
    }).catch((e: unknown) => e)) as TroupeError;
    expect(err.code).toBe('ERR_SUPERVISOR');
  });
});
