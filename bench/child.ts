// Child processes for the multi-process benchmarks: each speaks JSON lines (commands on stdin,
// answers on stdout with the command's id; `{"up": …}` once it serves). Every command is bounded
// in time, so a stuck run fails instead of hanging.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export type Reply = Record<string, unknown>;

/** Bound on any one command to a child. */
export const ASK_TIMEOUT_MS = 180_000;

let nextId = 1;

export class JsonChild {
  readonly child: ChildProcess;
  readonly up: Promise<Reply>;
  readonly exited: Promise<void>;
  readonly #waiters = new Map<number, (r: Reply) => void>();

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    let markUp!: (r: Reply) => void;
    this.up = new Promise((r) => (markUp = r));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let msg: Reply & { id?: number; up?: unknown };
      try {
        msg = JSON.parse(line) as Reply & { id?: number; up?: unknown };
      } catch {
        return; // not ours (a library printing)
      }
      if (msg.up !== undefined) markUp(msg);
      if (typeof msg.id === 'number') {
        this.#waiters.get(msg.id)?.(msg);
        this.#waiters.delete(msg.id);
      }
    });
  }

  ask<R extends Reply = Reply>(cmd: Record<string, unknown>): Promise<R> {
    const id = nextId++;
    return new Promise((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`${this.name} did not answer ${JSON.stringify(cmd)}`)),
        ASK_TIMEOUT_MS,
      );
      this.#waiters.set(id, (reply) => {
        clearTimeout(timer);
        done(reply as R);
      });
      this.child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

/** Latency figures of one phase, from sorted samples (ms). */
export function latencies(sorted: readonly number[]): { p50Ms: number; p99Ms: number } {
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return { p50Ms: q(0.5), p99Ms: q(0.99) };
}

/** Runs `op` `count` times with `inflight` at once; ops/s and latencies. */
export async function runLoad(
  inflight: number,
  count: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ inflight: number; count: number; failed: number; perSec: number; p50Ms: number; p99Ms: number }> {
  const lat: number[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < count) {
        const i = next++;
        const s = performance.now();
        try {
          await op(i);
          lat.push(performance.now() - s);
        } catch {
          failed++;
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { inflight, count, failed, perSec: Math.round(lat.length / secs), ...latencies(lat) };
}
