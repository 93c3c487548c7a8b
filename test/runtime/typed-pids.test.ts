// Typed references: `spawn` of a ProcessFunction<M> gives a Pid<M>; `send` to it checks the
// message at compile time (`npm test` type-checks this file: each @ts-expect-error must be an
// error); untyped pids and names take anything, and a typed pid goes wherever a Pid does.
import { describe, expect, it } from 'vitest';
import { Node, type Pid, type ProcessContext } from '../../runtime/index.js';

type Counter = { op: 'add'; n: number } | { op: 'get'; replyTo: Pid<number> };

describe('Pid<M>', () => {
  it('types sends by the process message type, and untyped code keeps compiling', async () => {
    const node = await Node.start({ name: 'typed', incarnation: 1 });
    const counter: Pid<Counter> = node.spawn(async (ctx: ProcessContext<Counter>) => {
      let total = 0;
      for (;;) {
        const m = await ctx.receive(); // a Counter, no cast
        if (m.op === 'add') total += m.n;
        else ctx.send(m.replyTo, total);
      }
    });
    node.send(counter, { op: 'add', n: 2 });
    node.send(counter, { op: 'add', n: 3 });
    // Checked by the compiler, never run (the counter would crash on them).
    const wrong = () => {
      // @ts-expect-error a message the counter does not take
      node.send(counter, { op: 'mul', n: 2 });
      // @ts-expect-error a number is not a Counter message
      node.send(counter, 5);
    };
    void wrong;
    const answer = await new Promise<number>((resolve) => {
      const asker = node.spawn(async (ctx: ProcessContext<number>) => {
        ctx.send(counter, { op: 'get', replyTo: ctx.self });
        resolve(await ctx.receive());
      });
      void asker;
    });
    expect(answer).toBe(5);
    const untyped: Pid = counter; // a typed pid goes wherever a Pid does
    void untyped; // (an untyped pid takes anything; not sent here, the counter would not understand it)
    node.register(
      'any',
      node.spawn(async (ctx) => void (await ctx.receive())),
    );
    node.send('any', { any: 'thing' }); // a name takes anything
    await node.stop();
  });
});
