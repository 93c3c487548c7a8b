// Public face of eventual KV spaces (`cluster.kv.eventual(name)`): the host, the space handle, the
// pure core and its messages, the conflict rule, limits and types. See docs/kv.md "Eventual spaces".
export { EventualKv, type EventualKvOptions, type EventualKvWatch, type EventualWatchTarget } from './host.js';
export { EventualKvSpace } from './space.js';
export { EventualKvCore, type EventualKvCoreOptions } from './core.js';
export { compareWrites, winningWrite } from './conflict.js';
export { stampedElement, type Stamped } from './stamped.js';
export {
  isEventualKvFrame,
  parseEventualKvMessage,
  type EventualKvMessage,
  type ParsedEventualKvMessage,
} from './messages.js';
export * from './limits.js';
export {
  zeroEventualCounters,
  type EventualGetReply,
  type EventualKeyValue,
  type EventualKvCounters,
  type EventualKvEvent,
  type EventualKvOutput,
  type EventualScanReply,
} from './types.js';
