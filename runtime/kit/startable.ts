// The contract every subsystem a Cluster runs fulfils: it has a name and stops. The composition
// root starts subsystems in order and stops them in reverse, each within a bound.

export interface Startable {
  /** Names the subsystem in logs and in a stop timeout ('internode', 'pg', 'raft', …). */
  readonly name: string;
  /** Releases everything the subsystem holds (sockets, timers, subscriptions); idempotent. */
  stop(): Promise<void>;
}

export interface StopOutcome {
  readonly name: string;
  /** 'stopped', 'timeout' (it did not finish within the bound), or 'failed' (it threw). */
  readonly outcome: 'stopped' | 'timeout' | 'failed';
  readonly error?: unknown;
}

/**
 * Stops `parts` in reverse order, giving each at most `timeoutMs` (real time, through the given
 * timer function so a test can pass its own). A part that throws or overruns does not keep the
 * others running: every part is asked to stop, and the outcomes say what happened.
 */
export async function stopInReverse(
  parts: readonly Startable[],
  timeoutMs: number,
  setTimer: (ms: number, fire: () => void) => { cancel(): void },
): Promise<StopOutcome[]> {
  const outcomes: StopOutcome[] = [];
  for (const part of [...parts].reverse()) {
    let timer: { cancel(): void } | null = null;
    const overrun = new Promise<'timeout'>((resolve) => (timer = setTimer(timeoutMs, () => resolve('timeout'))));
    try {
      const result = await Promise.race([part.stop().then(() => 'stopped' as const), overrun]);
      outcomes.push({ name: part.name, outcome: result });
    } catch (error) {
      outcomes.push({ name: part.name, outcome: 'failed', error });
    } finally {
      (timer as { cancel(): void } | null)?.cancel();
    }
  }
  return outcomes;
}
