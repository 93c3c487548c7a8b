// Public face of registry/: one folder per tier. The eventual tier (CRDT, registry/eventual/)
// and the consistent tier's state machine (a Raft tenant, registry/consistent/).
export * from './eventual/index.js';
export * from './consistent/index.js';
