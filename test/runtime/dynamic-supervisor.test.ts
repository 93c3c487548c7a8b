// Children started and terminated on a running supervisor (OTP's DynamicSupervisor): supervised
// like static ones under the strategy, bounded by maxChildren.
import { describe, expect, it } from 'vitest';
import {
  startChild,
  startSupervisor,
  terminateChild,
  whichChildren,
  type ChildSpec,
  type Node,
  type Pid,
  type ProcessContext,
  type TroupeError,
} from '../../runtime/index.js';
import { virtualNode } from './helpers.js';

function worker(id: string, log: string[], opts: Partial<ChildSpec> = {}): ChildSpec {
  return {
    id,
    ...opts,
    start: (sup: ProcessContext) =>
      sup.spawnLink(async (ctx) => {
        log.push(`start ${id}`);
        for (;;) {
          const m = await ctx.receive();
          if (m === 'crash') throw new Error(`${id} crashed`);
          if (m === 'exit-normal') return;
        }
      }),
  };
}

async function rejection(p: Promise<unknown>): Promise<TroupeError> {
  try {
    await p;
  } catch (err) {
    return err as TroupeError;
  }
  throw new Error('expected a rejection');
}

async function restartedFrom(node: Node, sup: Pid, id: string, old: Pid): Promise<Pid> {
  for (let i = 0; i < 1000; i++) {
    const now = (await whichChildren(node, sup)).find((c) => c.id === id)?.pid;
    if (now !== undefined && !now.equals(old)) return now;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`${id} was not restarted`);
}

describe('dynamic supervisor', () => {
  it('startChild starts and supervises a child on a running supervisor; terminateChild removes it', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const sup = await startSupervisor(node, { strategy: 'one_for_one', children: [worker('static', log)] });
    const a = await startChild(node, sup, worker('a', log));
    const b = await startChild(node, sup, worker('b', log));
    expect(node.isAlive(a) && node.isAlive(b)).toBe(true);
    expect((await whichChildren(node, sup)).map((c) => [c.id, c.pid?.toString()])).toEqual([
      ['static', expect.any(String)],
      ['a', a.toString()],
      ['b', b.toString()],
    ]);
    const aExit = node.exited(a);
    await terminateChild(node, sup, 'a');
    expect(await aExit).toBe('shutdown');
    expect((await whichChildren(node, sup)).map((c) => c.id)).toEqual(['static', 'b']);
    expect((await rejection(terminateChild(node, sup, 'a'))).code).toBe('ERR_SUPERVISOR');
    expect((await rejection(startChild(node, sup, worker('b', log)))).code).toBe('ERR_SUPERVISOR');
    expect((await rejection(startChild(node, sup, { id: '' } as ChildSpec))).code).toBe('ERR_BAD_ARGUMENT');
    const failing: ChildSpec = {
      id: 'failing',
      start: () => {
        throw new Error('cannot start');
      },
    };
    const e = await rejection(startChild(node, sup, failing));
    expect(e.code).toBe('ERR_SUPERVISOR');
    expect(e.message).toContain('cannot start');
    expect((await whichChildren(node, sup)).map((c) => c.id)).toEqual(['static', 'b']);
    // From inside a process too, and by registered name.
    node.register('sup', sup);
    const fromProc = new Promise<Pid>((resolve, reject) => {
      node.spawn(async (ctx) => {
        try {
          resolve(await startChild(ctx, 'sup', worker('c', log)));
        } catch (err) {
          reject(err);
        }
      });
    });
    expect(node.isAlive(await fromProc)).toBe(true);
    expect((await rejection(startChild(node, { node: 'elsewhere', name: 'sup' }, worker('d', log)))).code).toBe(
      'ERR_BAD_ARGUMENT',
    );
  });

  it('a crashed dynamic child is restarted under the strategy; one that exits for good is removed', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const sup = await startSupervisor(node, { strategy: 'rest_for_one', intensity: 5, children: [] });
    const first = await startChild(node, sup, worker('first', log));
    const second = await startChild(node, sup, worker('second', log));
    const secondExit = node.exited(second);
    node.send(first, 'crash');
    const first2 = await restartedFrom(node, sup, 'first', first);
    expect(await secondExit).toBe('shutdown'); // rest_for_one: the later child restarts too
    const second2 = await restartedFrom(node, sup, 'second', second);
    expect(log).toEqual(['start first', 'start second', 'start first', 'start second']);
    const t = await startChild(node, sup, worker('t', log, { restart: 'transient' }));
    const tExit = node.exited(t);
    node.send(t, 'exit-normal');
    await tExit;
    await new Promise((r) => setImmediate(r));
    expect((await whichChildren(node, sup)).map((c) => [c.id, c.pid?.toString()])).toEqual([
      ['first', first2.toString()],
      ['second', second2.toString()],
    ]);
  });

  it('maxChildren bounds static and dynamic children together: ERR_LIMIT past it', async () => {
    const { node } = await virtualNode();
    const log: string[] = [];
    const sup = await startSupervisor(node, { strategy: 'one_for_one', maxChildren: 2, children: [worker('s', log)] });
    await startChild(node, sup, worker('d1', log));
    const e = await rejection(startChild(node, sup, worker('d2', log)));
    expect(e.code).toBe('ERR_LIMIT');
    expect(log).toEqual(['start s', 'start d1']);
    await terminateChild(node, sup, 'd1');
    await startChild(node, sup, worker('d2', log));
    expect((await whichChildren(node, sup)).map((c) => c.id)).toEqual(['s', 'd2']);
    const bad = await rejection(
      startSupervisor(node, {
        strategy: 'one_for_one',
        maxChildren: 1,
        children: [worker('x', log), worker('y', log)],
      }),
    );
    expect(bad.code).toBe('ERR_SUPERVISOR');
  });
});
