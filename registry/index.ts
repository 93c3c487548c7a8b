// Public face of registry/. The eventual tier (CRDT) and its host are here; the consistent tier
// (a raft tenant) and resolve() come with the raft host.
export * from './eventual/index.js';
export {
  EventualRegistry,
  isNameLost,
  MAX_WATCH_BACKLOG,
  MAX_WATCHERS,
  type NameLostMessage,
  type EventualRegistryHostOptions,
} from './eventual-host.js';
