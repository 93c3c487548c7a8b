// A first troupe program: run it with `npx tsx examples/hello.ts`.
import { Node, isDown, type Pid } from '../index.js';

const node = await Node.start({ name: 'hello' });

// A process is an async function with a mailbox.
const greeter = node.spawn(async (ctx) => {
  for (;;) {
    const { from, name } = (await ctx.receive()) as { from: Pid; name: string };
    ctx.send(from, `hello, ${name}`);
  }
});
node.register('greeter', greeter);

// Another process talks to it by name and watches it with a monitor.
const client = node.spawn(async (ctx) => {
  ctx.send('greeter', { from: ctx.self, name: 'world' });
  console.log(await ctx.receive({ timeout: 1000 }));
  ctx.monitor(greeter);
  ctx.exit(greeter, 'kill');
  const down = await ctx.receive(isDown);
  console.log(`greeter is down: ${String(down.reason)}`);
});

await node.exited(client);
await node.stop();
