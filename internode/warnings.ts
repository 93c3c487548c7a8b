// Warnings about one peer (a dial that fails, a handshake refused) are logged at most once per
// WARN_EVERY_MS per key, with the number suppressed since the last line: a peer that fails 20
// times a second costs one log line every ten seconds, and no key is ever silent for longer.
import type { Logger } from 'pino';
import { MAX_WARNED_ADDRESSES, WARN_EVERY_MS } from './limits.js';

export class RateLimitedWarnings {
  readonly #logger: Logger;
  readonly #everyMs: number;
  /** Per key: when it was last logged and how many were suppressed since. Oldest first. */
  readonly #keys = new Map<string, { at: number; suppressed: number }>();

  constructor(logger: Logger, everyMs = WARN_EVERY_MS) {
    this.#logger = logger;
    this.#everyMs = everyMs;
  }

  /** Logs `message` at warn for `key`, unless one was logged for it less than WARN_EVERY_MS ago. */
  warn(key: string, now: number, fields: Record<string, unknown>, message: string): void {
    const seen = this.#keys.get(key);
    if (seen !== undefined && now - seen.at < this.#everyMs) {
      seen.suppressed++;
      return;
    }
    this.#keys.delete(key); // re-inserted last: the map stays ordered by last use
    if (this.#keys.size >= MAX_WARNED_ADDRESSES) this.#keys.delete(this.#keys.keys().next().value!);
    this.#keys.set(key, { at: now, suppressed: 0 });
    this.#logger.warn(
      { ...fields, ...(seen !== undefined && seen.suppressed > 0 ? { suppressed: seen.suppressed } : {}) },
      message,
    );
  }
}
