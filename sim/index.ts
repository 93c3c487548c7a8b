// Public face of the simulation toolkit: virtual time, a seeded random source and a faulty
// network that any protocol (raft, internode) can run on.
export { seededRandom } from './random.js';
export type { Random } from './random.js';
export { Scheduler, SchedulerOverflowError } from './scheduler.js';
export { SimNetwork, PERFECT_NETWORK } from './network.js';
export type { NetworkFaults, NetworkStats, Delivery } from './network.js';
