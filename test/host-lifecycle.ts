// Helpers of the host lifecycle tests (pg, registries): what a call threw, the codes a list of
// calls threw, and the subsystems a test started, stopped after it in reverse order.
import { afterEach } from 'vitest';
import { isTroupeError, type Node, type Pid } from '../runtime/index.js';

/** What `fn` threw (undefined if it returned). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** `name: CODE` for each call (or what it threw that is not a TroupeError). */
export function codesOf(calls: readonly (readonly [string, () => unknown])[]): string[] {
  return calls.map(([name, call]) => {
    const err = thrown(call);
    return `${name}: ${isTroupeError(err) ? err.code : String(err)}`;
  });
}

/** Things to stop after each test of this file, newest first. */
export function stoppedAfterEach(): { stop(): Promise<void> }[] {
  const started: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of started.splice(0).reverse()) await s.stop();
  });
  return started;
}

export const idle = (node: Node): Pid => node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'stop')));
