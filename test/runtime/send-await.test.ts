// sendAwait: a send that waits for room in a full mailbox instead of dropping, in order, bounded
// by MAX_SEND_WAITERS, aborted by a signal, and completed when the target exits.
import { describe, expect, it } from 'vitest';
import { limits, type Pid, type TroupeError } from '../../runtime/index.js';
import { virtualNode } from './helpers.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A process with a mailbox of `limit` that takes plain messages only once it hears 'go' (sent to it by name). */
async function stalled(limit: number): Promise<{
  node: Awaited<ReturnType<typeof virtualNode>>['node'];
  pid: Pid;
  got: unknown[];
}> {
  const { node } = await virtualNode('n1', { mailboxLimit: limit });
  const got: unknown[] = [];
  const pid = node.spawn(async (ctx) => {
    await ctx.receive((m) => m === 'go');
    for (;;) got.push(await ctx.receive());
  });
  await turn();
  return { node, pid, got };
}

describe('sendAwait', () => {
  it('waits for room in a full mailbox instead of dropping, and keeps the order', async () => {
    const { node, pid, got } = await stalled(2);
    await node.sendAwait(pid, 1);
    await node.sendAwait(pid, 2);
    const settled: number[] = [];
    const waiting = [3, 4, 5].map((n) => node.sendAwait(pid, n).then(() => settled.push(n)));
    node.send(pid, 'dropped'); // a plain send still drops by the overflow policy
    expect(node.stats().dropped.mailbox_full).toBe(1);
    await turn();
    expect(settled).toEqual([]);
    expect(node.processInfo(pid)!.mailboxLength).toBe(2);
    node.send(pid, 'go'); // matches the pending receive: handed over, no room needed
    await Promise.all(waiting);
    await turn();
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(settled).toEqual([3, 4, 5]);
  });

  it('a signal aborts the wait with ERR_ABORTED and nothing is sent', async () => {
    const { node, pid, got } = await stalled(1);
    await node.sendAwait(pid, 'first');
    const ac = new AbortController();
    const abandoned = node.sendAwait(pid, 'abandoned', { signal: ac.signal });
    const kept = node.sendAwait(pid, 'kept');
    ac.abort();
    await expect(abandoned).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(node.sendAwait(pid, 'late', { signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    node.send(pid, 'go');
    await kept;
    await turn();
    expect(got).toEqual(['first', 'kept']);
  });

  it('a target that exits while a send waits resolves it; a dead target resolves at once', async () => {
    const { node, pid } = await stalled(1);
    await node.sendAwait(pid, 'fill');
    const waiting = node.sendAwait(pid, 'never read');
    node.exit(pid, 'kill');
    await expect(waiting).resolves.toBeUndefined();
    const before = node.stats().dropped.dead_process;
    await expect(node.sendAwait(pid, 'to the dead')).resolves.toBeUndefined();
    expect(node.stats().dropped.dead_process).toBe(before + 1);
    await expect(node.sendAwait('nobody', 'x')).rejects.toMatchObject({ code: 'ERR_NO_SUCH_NAME' });
    await expect(node.sendAwait(pid, () => 1)).rejects.toMatchObject({ code: 'ERR_UNSERIALIZABLE' });
  });

  it('MAX_SEND_WAITERS sends may wait on one mailbox; one more is ERR_LIMIT', async () => {
    const { node, pid } = await stalled(1);
    await node.sendAwait(pid, 'fill');
    const waiting: Promise<void>[] = [];
    for (let i = 0; i < limits.MAX_SEND_WAITERS; i++) waiting.push(node.sendAwait(pid, i));
    const e = (await node.sendAwait(pid, 'one too many').catch((err: unknown) => err)) as TroupeError;
    expect(e.code).toBe('ERR_LIMIT');
    node.exit(pid, 'kill');
    await Promise.all(waiting);
  });

  it('from a process: a selective receive takes a waiting message; the sender exiting aborts its wait', async () => {
    const { node } = await virtualNode('n1', { mailboxLimit: 1 });
    const order: string[] = [];
    const receiver = node.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'go');
      // The mailbox holds 'a' and 'b' waits; a receive for 'b' does not deadlock on the limit.
      order.push(String(await ctx.receive((m) => m === 'b')));
      order.push(String(await ctx.receive()));
    });
    const sender = node.spawn(async (ctx) => {
      await ctx.sendAwait(receiver, 'a');
      await ctx.sendAwait(receiver, 'b');
      order.push('sender done');
    });
    await turn();
    expect(node.processInfo(sender)!.status).toBe('running'); // waiting in sendAwait, not in a receive
    expect(order).toEqual([]);
    node.send(receiver, 'go');
    await node.exited(receiver);
    await node.exited(sender);
    expect(order.filter((o) => o !== 'sender done')).toEqual(['b', 'a']);
    expect(order).toContain('sender done');

    const full = node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'never')));
    await node.sendAwait(full, 'fill');
    let outcome = '';
    const doomed = node.spawn(async (ctx) => {
      try {
        await ctx.sendAwait(full, 'waits');
      } catch (err) {
        outcome = (err as TroupeError).code;
      }
    });
    await turn();
    node.exit(doomed, 'kill');
    await node.exited(doomed);
    await turn();
    expect(outcome).toBe('ERR_ABORTED');
    expect(node.processInfo(full)!.mailboxLength).toBe(1);
  });
});
