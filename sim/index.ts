// Public face of the simulation toolkit: virtual time, a seeded random source and a faulty
// network that any protocol (raft, internode) can run on.
export { seededRandom } from '../runtime/base.js';
export type { Random } from '../runtime/base.js';
export { Scheduler, SchedulerOverflowError } from './scheduler.js';
export { SimNetwork, PERFECT_NETWORK } from './network.js';
export type { NetworkFaults, NetworkStats, Delivery } from './network.js';
