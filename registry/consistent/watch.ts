// The name watch hub of one node: the kit's event hub over the registry's events (one stream,
// a name or a prefix per watcher), with the registry's limits and typed errors.
import { TroupeError } from '../../runtime/base.js';
import { EventWatchHub, type HubWatch } from '../../runtime/index.js';
import { MAX_NAME_WATCHER_BACKLOG, MAX_NAME_WATCHERS_PER_NODE, MAX_RETAINED_NAME_EVENTS } from './limits.js';
import type { NameEvent } from './types.js';

export type NameWatchTarget = { readonly name: string } | { readonly prefix: string };
export type NameWatch = HubWatch<NameEvent>;

/** A TroupeError with the revision to watch again from (ERR_NAMES_WATCH_BEHIND). */
export class NameWatchBehindError extends TroupeError {
  readonly resumeRevision: number;
  constructor(resumeRevision: number, why: string) {
    super('ERR_NAMES_WATCH_BEHIND', why);
    this.resumeRevision = resumeRevision;
  }
}

export class NameWatchHub extends EventWatchHub<NameEvent, NameWatchTarget> {
  constructor() {
    super({
      retained: MAX_RETAINED_NAME_EVENTS,
      backlog: MAX_NAME_WATCHER_BACKLOG,
      maxWatchers: MAX_NAME_WATCHERS_PER_NODE,
      streamOf: () => '',
      matches: (target, e) => ('name' in target ? e.name === target.name : e.name.startsWith(target.prefix)),
      errors: {
        tooMany: () =>
          new TroupeError('ERR_NAMES_TOO_MANY_WATCHERS', `this node holds ${MAX_NAME_WATCHERS_PER_NODE} name watchers`),
        badFrom: (from) =>
          new TroupeError('ERR_NAMES_BAD_COMMAND', `fromRevision is a revision >= 1, got ${String(from as number)}`),
        compacted: (floor) =>
          new TroupeError('ERR_NAMES_COMPACTED', `this node holds the name events after revision ${floor} only`),
        behind: (resumeRevision, why) => new NameWatchBehindError(resumeRevision, why),
        stopped: () => new TroupeError('ERR_STOPPED', 'the consistent registry stopped'),
      },
    });
  }
}
