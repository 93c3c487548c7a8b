// The composition root's public face: one object that runs a cluster node.
export { Cluster, ClusterNotReadyError, type ClusterPart, type ReadyOptions } from './cluster.js';
export { trimSecret, type ClusterOptions } from './options.js';
export * as clusterLimits from './limits.js';
