// Public face of the simulation toolkit: virtual time, a seeded random source and the one fault
// model (FaultModel) with its carriers: SimNetwork on a Scheduler, and internode's in-memory
// transport through memoryTransportFaults. sim/pg, sim/registry, sim/raft and sim/internode drive
// the real cores and hosts on them; sim/sweep.ts runs many seeds of any of them.
export { seededRandom } from '../runtime/base.js';
export type { Random } from '../runtime/base.js';
export { Scheduler, SchedulerOverflowError } from './scheduler.js';
export { FaultModel, SimNetwork, PERFECT_NETWORK } from './network.js';
export type { NetworkFaults, NetworkStats, Delivery, RouteOptions } from './network.js';
export { memoryTransportFaults, hostOf } from './memory-faults.js';
