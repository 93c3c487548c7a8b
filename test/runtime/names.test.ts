import { describe, expect, it } from 'vitest';
import { isTroupeError, type TroupeError } from '../../runtime/index.js';
import { virtualNode } from './helpers.js';

const forever = async (ctx: { receive(): Promise<unknown> }): Promise<void> => {
  for (;;) await ctx.receive();
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as TroupeError).code;
  }
  return undefined;
}

describe('local names', () => {
  it('register, whereis, send by name, unregister', async () => {
    const { node } = await virtualNode();
    const pid = node.spawn(forever);
    node.register('svc', pid);
    expect(node.whereis('svc')?.equals(pid)).toBe(true);
    expect(node.processInfo(pid)?.registeredName).toBe('svc');
    expect(node.registered()).toEqual(['svc']);
    node.send('svc', 'hello');
    await Promise.resolve();
    node.unregister('svc');
    expect(node.whereis('svc')).toBeUndefined();
  });

  it('a name is released when its process exits', async () => {
    const { node } = await virtualNode();
    const pid = node.spawn(async (ctx) => void (await ctx.receive()), { name: 'worker' });
    const done = node.exited(pid);
    node.send('worker', 'stop');
    await done;
    expect(node.whereis('worker')).toBeUndefined();
    const again = node.spawn(forever, { name: 'worker' });
    expect(node.whereis('worker')?.equals(again)).toBe(true);
  });

  it('bad paths are typed errors', async () => {
    const { node } = await virtualNode();
    const a = node.spawn(forever);
    const b = node.spawn(forever);
    node.register('taken', a);
    expect(codeOf(() => node.register('taken', b))).toBe('ERR_NAME_TAKEN');
    expect(codeOf(() => node.register('second', a))).toBe('ERR_ALREADY_NAMED');
    expect(codeOf(() => node.spawn(forever, { name: 'taken' }))).toBe('ERR_NAME_TAKEN');
    expect(codeOf(() => node.send('nobody', 1))).toBe('ERR_NO_SUCH_NAME');
    expect(codeOf(() => node.unregister('nobody'))).toBe('ERR_NOT_REGISTERED');
    expect(codeOf(() => node.register('', b))).toBe('ERR_BAD_NAME');
    expect(codeOf(() => node.register('<looks.like.pid>', b))).toBe('ERR_BAD_NAME');
    const dead = node.spawn(() => {});
    await node.exited(dead);
    expect(codeOf(() => node.register('late', dead))).toBe('ERR_NOPROC');
    expect(isTroupeError(new Error('x'))).toBe(false);
  });
});
