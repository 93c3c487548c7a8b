// Server-Sent Event streams (the KV watch over HTTP), bounded: at most MAX_SSE_STREAMS open,
// a heartbeat comment every SSE_HEARTBEAT_MS, and a reader that lets more than
// MAX_SSE_BUFFER_BYTES pile up unsent is ended. The watch is closed when the client
// goes, when the watch itself ends (an error event says why, with where to resume), or on stop.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KvEvent, KvWatch } from '../kv/index.js';
import { TroupeError } from '../runtime/index.js';
import { AdminHttpError } from './errors.js';
import { keyJson } from './kv-routes.js';
import { SSE_HEARTBEAT_MS, MAX_SSE_STREAMS, MAX_SSE_BUFFER_BYTES } from './limits.js';

export interface EventStreamCounters {
  opened: number;
  /** Streams ended because their reader fell MAX_SSE_BUFFER_BYTES behind. */
  slowReaders: number;
  /** Streams refused at MAX_SSE_STREAMS. */
  refused: number;
}

export class EventStreams {
  readonly #open = new Set<() => void>();
  readonly counters: EventStreamCounters = { opened: 0, slowReaders: 0, refused: 0 };

  get size(): number {
    return this.#open.size;
  }

  /** Starts a stream; `makeWatch` throwing (a bad start revision, too many watchers) answers with JSON instead. */
  open(req: IncomingMessage, res: ServerResponse, makeWatch: () => KvWatch): void {
    if (this.#open.size >= MAX_SSE_STREAMS) {
      this.counters.refused++;
      throw new AdminHttpError('ERR_ADMIN_BUSY', 503, `this server holds ${MAX_SSE_STREAMS} event streams`);
    }
    const watch = makeWatch();
    this.counters.opened++;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': watching\n\n');
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), SSE_HEARTBEAT_MS);
    heartbeat.unref();
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      this.#open.delete(end);
      watch.close();
      res.end();
    };
    this.#open.add(end);
    // The client went away (or the socket broke): dispose of the watcher at once.
    res.on('close', end);
    req.on('error', end);
    void (async () => {
      try {
        for await (const e of watch) {
          if (ended) break;
          res.write(eventText(e));
          if (res.writableLength > MAX_SSE_BUFFER_BYTES) {
            this.counters.slowReaders++;
            res.write(
              errorText('ERR_ADMIN_BUSY', 'the reader fell behind: watch again from the next revision', e.revision + 1),
            );
            break;
          }
        }
      } catch (error) {
        if (!ended) {
          const code = error instanceof TroupeError ? error.code : 'ERR_ADMIN_INTERNAL';
          const resume = (error as { resumeRevision?: unknown }).resumeRevision;
          res.write(errorText(code, (error as Error).message, typeof resume === 'number' ? resume : undefined));
        }
      } finally {
        end();
      }
    })();
  }

  /** Ends every open stream (the server is stopping). */
  closeAll(): void {
    for (const end of [...this.#open]) end();
  }
}

function eventText(e: KvEvent): string {
  const data = { type: e.type, key: e.key, revision: e.revision, kv: e.kv === null ? null : keyJson(e.kv) };
  return `id: ${e.revision}\nevent: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function errorText(code: string, message: string, resumeRevision?: number): string {
  const data = { code, message, ...(resumeRevision !== undefined ? { resumeRevision } : {}) };
  return `event: error\ndata: ${JSON.stringify(data)}\n\n`;
}
