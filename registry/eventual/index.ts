// Public face of the eventual registry tier: the host (EventualRegistry), the pure replica core
// it drives, their messages and limits.
export {
  EventualRegistry,
  checkRegistryFitsTransport,
  isNameLost,
  type NameLostMessage,
  type EventualRegistryHostOptions,
  type RegistryStreamOptions,
} from './host.js';
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
