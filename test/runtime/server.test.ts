import { describe, expect, it } from 'vitest';
import { startServer, type From, type Pid, type ServerBehaviour, type TroupeError } from '../../runtime/index.js';
import { spawnProbe, virtualNode } from './helpers.js';

type Req = { op: 'get' } | { op: 'add'; n: number } | { op: 'stop' } | { op: 'later' };

function counter(events: string[]): ServerBehaviour<number, number, Req, number | string, { op: 'inc' }> {
  return {
    init: (start) => {
      events.push(`init ${start}`);
      return start;
    },
    handleCall(req, from, state, ctx) {
      switch (req.op) {
        case 'get':
          return { reply: state, state };
        case 'add':
          return { reply: state + req.n, state: state + req.n };
        case 'stop':
          return { stop: 'normal', reply: 'bye', state };
        case 'later':
          // Reply from elsewhere later: the server keeps serving meanwhile.
          ctx.send(ctx.self, { deferred: from });
          return { noreply: true, state };
      }
    },
    handleCast(msg, state) {
      return { state: msg.op === 'inc' ? state + 1 : state };
    },
    handleInfo(msg, state, ctx) {
      const deferred = (msg as { deferred?: From }).deferred;
      if (deferred !== undefined) ctx.reply(deferred, 'deferred reply');
      else events.push(`info ${JSON.stringify(msg)}`);
      return { state };
    },
    terminate(reason, state) {
      events.push(`terminate ${typeof reason === 'string' ? reason : reason.message} ${state}`);
    },
  };
}

describe('server behaviour', () => {
  it('runs init, calls, casts, infos, a deferred reply and terminate on stop', async () => {
    const { node } = await virtualNode();
    const events: string[] = [];
    const pid = await startServer(node, counter(events), 10, { name: 'counter' });
    expect(await node.call('counter', { op: 'get' })).toBe(10);
    expect(await node.call(pid, { op: 'add', n: 5 })).toBe(15);
    node.cast(pid, { op: 'inc' });
    expect(await node.call(pid, { op: 'get' })).toBe(16);
    node.send(pid, 'plain');
    expect(await node.call(pid, { op: 'later' })).toBe('deferred reply');
    const exited = node.exited(pid);
    expect(await node.call(pid, { op: 'stop' })).toBe('bye');
    expect(await exited).toBe('normal');
    expect(events).toEqual(['init 10', 'info "plain"', 'terminate normal 16']);
  });

  it('a failing init rejects startServer with its error', async () => {
    const { node } = await virtualNode();
    const err = await startServer(node, { init: () => Promise.reject(new Error('no config')) }, undefined).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe('no config');
  });

  it('an error in a callback runs terminate, then the server exits with the error', async () => {
    const { node } = await virtualNode();
    const events: string[] = [];
    const pid = await startServer(
      node,
      {
        init: () => 0,
        handleCall: () => {
          throw new Error('handler bug');
        },
        terminate: (reason) => void events.push(`terminate ${(reason as Error).message}`),
      },
      undefined,
    );
    const exited = node.exited(pid);
    const err = (await node.call(pid, 'x').catch((e: unknown) => e)) as TroupeError;
    expect(err.code).toBe('ERR_CALLEE_EXITED');
    expect(((await exited) as Error).message).toBe('handler bug');
    expect(events).toEqual(['terminate handler bug']);
  });

  it('a trapping linked server terminates with its parent', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const events: string[] = [];
    const parent = node.spawn(async (ctx) => {
      const server = await startServer(ctx, counter(events), 1, { link: true, trapExit: true });
      ctx.send(probe.pid, server);
      await ctx.receive((m) => m === 'quit');
      throw new Error('parent failed');
    });
    const server = (await probe.next()) as Pid;
    const serverExit = node.exited(server);
    node.send(parent, 'quit');
    expect(((await serverExit) as Error).message).toBe('parent failed');
    expect(events).toEqual(['init 1', 'terminate parent failed 1']);
  });

  it('link: true from outside a process is refused', async () => {
    const { node } = await virtualNode();
    const err = (await startServer(node, { init: () => 0 }, undefined, { link: true }).catch(
      (e: unknown) => e,
    )) as TroupeError;
    expect(err.code).toBe('ERR_BAD_ARGUMENT');
  });
});
