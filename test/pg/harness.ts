// The tests' harness for pg cores is the simulation's deterministic cluster (sim/pg), with one
// vitest-flavoured check on top.
import { expect } from 'vitest';
import { Cluster as SimCluster } from '../../sim/pg/index.js';

export { describeEvents, localState, multiset, sameCounts, type RecordedMonitor } from '../../sim/pg/index.js';

export class Cluster extends SimCluster {
  /** Check the invariant of pg-semantics.md for every active monitor: replay equals current view. */
  expectMonitorsReplay(): void {
    expect(this.monitorReplayProblems()).toEqual([]);
  }
}
