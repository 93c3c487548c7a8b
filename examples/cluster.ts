// Two troupe nodes in one program: spawn a process, join a group, broadcast to it across nodes.
// Run it with `npx tsx examples/cluster.ts`. (In your own project, import from 'troupe'.)
import { Cluster, type Pid } from '../index.js';

const secret = 'at least sixteen bytes, shared by every node';
const a = await Cluster.start({ name: 'a', secret, listen: '127.0.0.1:0' });
const b = await Cluster.start({ name: 'b', secret, listen: '127.0.0.1:0', seeds: [a.address!] });
await a.ready({ nodes: 2, timeout: 10_000 }); // both nodes up, connected and authenticated

// A process is an async function with a mailbox; this one lives on b.
const greeter = b.node.spawn(async (ctx) => {
  for (;;) {
    const { from, name } = (await ctx.receive()) as { from: Pid; name: string };
    ctx.send(from, `hello, ${name}, from node ${ctx.self.node}`);
  }
});
b.pg.join('greeters', greeter); // a process group, seen from every node

// From a: wait until a sees the member, then broadcast to the group.
const watch = a.pg.monitor('greeters');
if (watch.snapshot.length === 0) for await (const event of watch) if (event.kind === 'join') break;
watch.demonitor();

const client = a.node.spawn(async (ctx) => {
  a.pg.broadcast('greeters', { from: ctx.self, name: 'world' });
  console.log(await ctx.receive({ timeout: 5_000 })); // hello, world, from node b
});
await a.node.exited(client);
console.log(`a sees ${a.pg.members('greeters').length} member of 'greeters'; up: ${a.upNodes().join(', ')}`);

await b.stop(); // b leaves: a sees it down and its members leave the group
await a.stop();
