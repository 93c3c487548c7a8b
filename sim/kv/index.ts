// KV clients on the simulated cluster (the real Raft host, the KV tenant), checked for linearizability.
export { runKvSimulation, type KvSimOptions, type KvSimResult } from './simulation.js';
