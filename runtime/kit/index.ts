// The host kit: the small parts every host is built from (pg, the registries, the Raft host,
// KV, admin), so no host hand-copies a skeleton.
export { RingQueue } from './ring-queue.js';
export { BoundedStream, type BoundedStreamOptions, type StreamOverflow } from './bounded-stream.js';
export { periodic, type Periodic } from './periodic.js';
export { observeCounters, type CounterSample, type CounterReading } from './counters.js';
export { backoffDelay, type BackoffPolicy } from './backoff.js';
export { MinHeap, dueFirst, type Timed } from './min-heap.js';
export { assertLimitBelow, LimitConflictError, type NamedLimit } from './limit-relations.js';
export { stopInReverse, type Startable, type StopOutcome } from './startable.js';
export {
  EventWatchHub,
  type WatchHubOptions,
  type HubWatch,
  type WatchHubCounters,
  type WatchedEvent,
} from './watch-hub.js';
