// The far side of the internode benchmark, run as its own process by bench/internode.bench.ts
// (`node --import tsx bench/internode-peer.ts <secret>`). It starts a troupe node with the
// internode layer and, beside it, a raw `ws` server, both on loopback port 0, then prints one
// JSON line with the addresses and the pids of its two processes:
//   sink — counts payloads (Buffers); on { type: 'end', from } replies { count, bytes, cpuUs } and
//          resets (cpuUs: this process's CPU time so far, user + system, in µs);
//   echo — on [from, payload] sends the payload back to `from`.
// The raw server does the same per path: /sink counts binary messages and answers the text
// message 'end' with JSON { count, bytes, cpuUs }; /echo sends every binary message back.
// It exits when its stdin closes (the parent went away) or on SIGTERM.
import { WebSocketServer, type RawData } from 'ws';
import { Node, isTroupeError, type Pid } from '../runtime/index.js';
import { Internode } from '../internode/index.js';

export interface PeerReady {
  readonly internode: string;
  readonly raw: string;
  readonly sink: string;
  readonly echo: string;
}

const secret = process.argv[2];
if (secret === undefined || secret.length < 16) {
  process.stderr.write('usage: internode-peer.ts <secret of at least 16 bytes>\n');
  process.exit(2);
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const rawLength = (data: RawData): number =>
  Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;

const node = await Node.start({ name: 'bench-peer', incarnation: 1 });
const net = await Internode.start({ node, cluster: 'bench', secret, listen: '127.0.0.1:0' });

/**
 * Waits for room; a bench node gone down meanwhile loses the reply (its run fails and says so) —
 * the process lives on.
 */
async function replyTo(to: Pid, message: unknown, self: Pid): Promise<void> {
  try {
    await net.sendAwait(self, to, message);
  } catch (err) {
    if (!isTroupeError(err) || err.code !== 'ERR_NO_ROUTE') throw err;
  }
}

const sink = node.spawn(async (ctx) => {
  let count = 0;
  let bytes = 0;
  for (;;) {
    const m = await ctx.receive();
    if (m instanceof Uint8Array) {
      count++;
      bytes += m.length;
    } else if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'end') {
      await replyTo((m as { from: Pid }).from, { count, bytes, cpuUs: cpuUs() }, ctx.self);
      count = 0;
      bytes = 0;
    }
  }
});

const echo = node.spawn(async (ctx) => {
  for (;;) {
    const m = (await ctx.receive()) as [Pid, Uint8Array];
    try {
      ctx.send(m[0], m[1]);
    } catch (err) {
      if (!isTroupeError(err) || err.code !== 'ERR_BACKPRESSURE') throw err;
      await replyTo(m[0], m[1], ctx.self);
    }
  }
});

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 8 * 1024 * 1024 });
await new Promise<void>((resolve, reject) => {
  wss.once('error', reject);
  wss.once('listening', () => resolve());
});
wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  if (req.url === '/echo') {
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    return;
  }
  let count = 0;
  let bytes = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      count++;
      bytes += rawLength(data);
    } else {
      ws.send(JSON.stringify({ count, bytes, cpuUs: cpuUs() }));
      count = 0;
      bytes = 0;
    }
  });
});
const port = (wss.address() as { port: number }).port;

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const c of wss.clients) c.terminate();
  wss.close();
  await net.stop(); // tells the bench node it is leaving; the processes die with this process
  process.exit(0);
}
process.stdin.on('close', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());

const ready: PeerReady = {
  internode: net.address,
  raw: `ws://127.0.0.1:${port}`,
  sink: sink.toString(),
  echo: echo.toString(),
};
process.stdout.write(JSON.stringify(ready) + '\n');
