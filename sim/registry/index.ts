// The eventual registry simulation: N real EventualRegistryCore replicas on the one fault model
// (cluster.ts), and the randomized scenario of one seed (scenario.ts). Tests run a slice of seeds;
// sim/sweep.ts runs many.
export { SimCluster } from './cluster.js';
export type { SimFaults, SimOptions, SimNode } from './cluster.js';
export { runScenario, SIM_AE_INTERVAL_MS, SIM_GRACE_MS, MAX_HEAL_AE_INTERVALS } from './scenario.js';
export type { ScenarioOptions, ScenarioResult } from './scenario.js';
