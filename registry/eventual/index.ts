// Public face of the eventual registry tier: the pure replica core, its messages and limits.
// The host (sockets, timers, runtime wiring) lives elsewhere and drives the core.
export { EventualRegistryCore } from './core.js';
export type { EventualRegistryOptions, RegistryOutput, WatchEvent, RegistryCounters } from './types.js';
export { zeroCounters } from './types.js';
export type {
  RegistryMessage,
  DeltaMessage,
  DigestMessage,
  ShardsMessage,
  ShardCursor,
  ParsedRegistryMessage,
} from './messages.js';
export { parseRegistryMessage } from './messages.js';
export { compareClaims, winningClaim } from './claim-order.js';
export { pidElement } from './pid-element.js';
export { DeltaOutbox } from './outbox.js';
export {
  NameTakenError,
  NotRegisteredError,
  BadRegistryNameError,
  NotLocalPidError,
  RegistryLimitError,
  RegistryMalformedError,
  RegistryConfigError,
} from './errors.js';
export * from './limits.js';
