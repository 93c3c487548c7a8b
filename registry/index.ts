// Public face of registry/. The eventual tier (CRDT) is here; the consistent tier (raft tenant)
// and resolve() come with their hosts.
export * from './eventual/index.js';
