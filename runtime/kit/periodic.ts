// A repeating task on a Clock: the one way hosts tick. The next run is scheduled only after the
// current one returns, so a slow run never overlaps itself; cancel() stops it for good, even
// from inside the task.
import type { Clock, TimerHandle } from '../clock.js';

export interface Periodic {
  cancel(): void;
}

export function periodic(clock: Clock, intervalMs: number, task: () => void): Periodic {
  if (!(intervalMs > 0)) throw new RangeError(`periodic needs an interval above 0 ms, got ${intervalMs}`);
  let timer: TimerHandle | null = null;
  let cancelled = false;
  const schedule = (): void => {
    timer = clock.setTimer(intervalMs, () => {
      if (cancelled) return;
      try {
        task();
      } finally {
        if (!cancelled) schedule();
      }
    });
  };
  schedule();
  return {
    cancel: () => {
      cancelled = true;
      timer?.cancel();
      timer = null;
    },
  };
}
