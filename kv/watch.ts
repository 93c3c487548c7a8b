// The watch hub of one node's KV replica: the kit's event hub (runtime/kit/watch-hub.ts) over
// KV events, one stream per space, with the KV store's limits and typed errors. A watcher that
// falls MAX_WATCHER_BACKLOG events behind ends with ERR_KV_WATCH_BEHIND carrying the revision to
// resume from; a start point no longer held is ERR_KV_COMPACTED.
import { TroupeError } from '../runtime/base.js';
import { EventWatchHub, type HubWatch, type WatchHubCounters } from '../runtime/index.js';
import { KvError } from './errors.js';
import { MAX_RETAINED_EVENTS, MAX_WATCHER_BACKLOG, MAX_WATCHERS_PER_NODE } from './limits.js';
import type { KvEvent } from './types.js';

export type WatchTarget = { readonly key: string } | { readonly prefix: string };

export interface WatchOptions {
  /** Deliver every event from this revision on (it must still be retained); default: new events. */
  readonly fromRevision?: number;
  readonly signal?: AbortSignal;
}

/** A watch: an async iterator of events; `close()` (or `Symbol.asyncDispose`) ends it. */
export type KvWatch = HubWatch<KvEvent>;
export type WatchCounters = WatchHubCounters;

export class WatchHub extends EventWatchHub<KvEvent, WatchTarget> {
  constructor() {
    super({
      retained: MAX_RETAINED_EVENTS,
      backlog: MAX_WATCHER_BACKLOG,
      maxWatchers: MAX_WATCHERS_PER_NODE,
      streamOf: (e) => e.space,
      matches: (target, e) => ('key' in target ? e.key === target.key : e.key.startsWith(target.prefix)),
      errors: {
        tooMany: () => new KvError('ERR_KV_TOO_MANY_WATCHERS', `this node holds ${MAX_WATCHERS_PER_NODE} watchers`),
        badFrom: (from) =>
          new KvError('ERR_KV_BAD_COMMAND', `fromRevision is a revision >= 1, got ${String(from as number)}`),
        compacted: (floor, current) =>
          new KvError('ERR_KV_COMPACTED', `this node holds the events of the space after revision ${floor} only`, {
            compactRevision: floor,
            currentRevision: current,
          }),
        behind: (resumeRevision, why) => new KvError('ERR_KV_WATCH_BEHIND', why, { resumeRevision }),
        stopped: () => new TroupeError('ERR_STOPPED', 'the KV store stopped'),
      },
    });
  }
}
