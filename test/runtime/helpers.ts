// Test helpers: a probe process whose received messages the test can await, and node setup.
import pino from 'pino';
import { Writable } from 'node:stream';
import { Node, VirtualClock, type Pid, type NodeOptions } from '../../runtime/index.js';

export interface Probe {
  readonly pid: Pid;
  /** The next message the probe received (waits for it). */
  next(): Promise<unknown>;
  /** Messages received and not yet taken with next(). */
  readonly pending: unknown[];
}

export function spawnProbe(node: Node): Probe {
  const pending: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  const pid = node.spawn(async (ctx) => {
    for (;;) {
      const m = await ctx.receive();
      const w = waiters.shift();
      if (w !== undefined) w(m);
      else pending.push(m);
    }
  });
  return {
    pid,
    pending,
    next: () =>
      pending.length > 0 ? Promise.resolve(pending.shift()) : new Promise((resolve) => waiters.push(resolve)),
  };
}

export interface LogCapture {
  readonly lines: Record<string, unknown>[];
  readonly logger: pino.Logger;
}

export function captureLogs(): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

export async function virtualNode(
  name = 'n1',
  extra: Partial<NodeOptions> = {},
): Promise<{ node: Node; clock: VirtualClock }> {
  const clock = new VirtualClock();
  const node = await Node.start({ name, clock, incarnation: 1, ...extra });
  return { node, clock };
}
