// Public face of registry/: one folder per tier. The eventual tier (CRDT, registry/eventual/) is
// here; the consistent tier (a raft tenant, registry/consistent/) and resolve() come with the raft host.
export * from './eventual/index.js';
