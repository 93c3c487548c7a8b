// Dialing: one dial per address at a time, at most MAX_DIALS_IN_FLIGHT at once, and retry loops
// (seeds until each answered once, members lost and worth redialing) that wait backoffDelay
// between attempts. A retry captures its own key; what to dial next is asked afresh each time,
// so a later change (a new incarnation, a member forgotten) makes a pending retry moot.
import { backoffDelay, type Clock, type Random } from '../runtime/index.js';
import { DialError, HandshakeError, InternodeError, type DialFailure } from './errors.js';
import type { PeerIdentity } from './handshake.js';
import { MAX_DIALS_IN_FLIGHT, RECONNECT_BASE_MS, RECONNECT_MAX_MS } from './limits.js';
import type { Connection, Transport } from './transport.js';

export interface DialerHost {
  readonly clock: Clock;
  readonly transport: Transport;
  readonly random: Pick<Random, 'next'>;
  /** Runs the handshake over a dialed connection; resolves with the peer once it is attached. */
  handshake(conn: Connection, address: string): Promise<PeerIdentity>;
  /** A dial failed before any handshake (refused, unreachable, TLS, timeout). */
  dialFailed(address: string, failure: DialFailure, err: unknown): void;
}

/** What a retry loop dials next: an address and the backoff exponent, or undefined to stop. */
export type NextDial = () => { readonly address: string; readonly attempt: number } | undefined;

export interface RetryHooks {
  readonly next: NextDial;
  /** The dial (or its handshake) failed; `err` says how. Return false to stop retrying. */
  readonly failed: (err: unknown) => boolean;
  readonly succeeded?: (peer: PeerIdentity) => void;
}

const POLICY = { baseMs: RECONNECT_BASE_MS, maxMs: RECONNECT_MAX_MS };

export class Dialer {
  readonly #host: DialerHost;
  /** In-flight dials by address: a member heard of twice is dialed once. */
  readonly #dials = new Map<string, Promise<PeerIdentity>>();
  /** Pending retries by key (a seed address, or a member's name). */
  readonly #retries = new Map<string, { cancel(): void }>();
  readonly #abort = new AbortController();
  /** Failed attempts per seed since it last answered (the backoff exponent). */
  readonly #seedAttempts = new Map<string, number>();
  #inFlight = 0;

  constructor(host: DialerHost) {
    this.#host = host;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Whether another dial may start now. */
  get hasRoom(): boolean {
    return this.#inFlight < MAX_DIALS_IN_FLIGHT && !this.stopped;
  }

  /** Dials `address` and runs the handshake; the same promise for a dial of it already in flight. */
  dial(address: string): Promise<PeerIdentity> {
    let dial = this.#dials.get(address);
    if (dial === undefined) {
      dial = this.#dialOnce(address).finally(() => this.#dials.delete(address));
      this.#dials.set(address, dial);
    }
    return dial;
  }

  /** Dials `address` now if there is room, and forgets the outcome (a member just heard of). */
  dialQuietly(address: string): void {
    if (!this.hasRoom) return; // the next member exchange repeats it
    this.dial(address).catch(() => {});
  }

  async #dialOnce(address: string): Promise<PeerIdentity> {
    this.#inFlight++;
    try {
      let conn: Connection;
      try {
        conn = await this.#host.transport.dial(address, { signal: this.#abort.signal });
      } catch (err) {
        if (!this.stopped) {
          const failure = err instanceof DialError ? err.failure : 'other';
          this.#host.dialFailed(address, failure, err);
        }
        throw err;
      }
      if (this.stopped) {
        conn.close(4008, 'shutting down');
        throw new InternodeError('ERR_STOPPED', 'stopping');
      }
      return await this.#host.handshake(conn, address);
    } finally {
      this.#inFlight--;
    }
  }

  /**
   * Keeps dialing under `key` until `hooks.next` says to stop, a dial succeeds, or `failed`
   * returns false. `immediately` skips the wait before the first attempt. One loop per key.
   */
  retry(key: string, hooks: RetryHooks, immediately = false): void {
    if (this.stopped || this.#retries.has(key)) return;
    const first = hooks.next();
    if (first === undefined) return;
    const delay = immediately ? 0 : backoffDelay(first.attempt, POLICY, () => this.#host.random.next());
    const timer = this.#host.clock.setTimer(delay, () => {
      this.#retries.delete(key);
      const now = hooks.next();
      if (this.stopped || now === undefined) return;
      if (!this.hasRoom) {
        // Full: try again later, as if this attempt had failed (without blaming the peer).
        if (hooks.failed(new InternodeError('ERR_LIMIT', 'too many dials in flight'))) this.retry(key, hooks);
        return;
      }
      this.dial(now.address).then(
        (peer) => hooks.succeeded?.(peer),
        (err: unknown) => {
          if (!this.stopped && hooks.failed(err)) this.retry(key, hooks);
        },
      );
    });
    this.#retries.set(key, timer);
  }

  /**
   * Dials a seed until it answers once (`answered` says whether a member at that address is up),
   * with backoff that keeps growing across calls until it does. A seed that turns out to be this
   * node (under another address) is dropped: `isOwn` is told.
   */
  seed(address: string, answered: () => boolean, isOwn: () => void, immediately = false): void {
    this.retry(
      `seed ${address}`,
      {
        next: () => (answered() ? undefined : { address, attempt: this.#seedAttempts.get(address) ?? 0 }),
        failed: (err) => {
          if (isSelf(err)) {
            isOwn();
            return false;
          }
          this.#seedAttempts.set(address, (this.#seedAttempts.get(address) ?? 0) + 1);
          return true;
        },
        succeeded: () => this.#seedAttempts.delete(address),
      },
      immediately,
    );
  }

  cancel(key: string): void {
    this.#retries.get(key)?.cancel();
    this.#retries.delete(key);
  }

  /** Stops for good: pending retries are cancelled and dials in flight are aborted. */
  stop(): void {
    this.#abort.abort();
    for (const t of this.#retries.values()) t.cancel();
    this.#retries.clear();
  }

  /** Resolves when every dial in flight has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#dials.values()]);
  }
}

/** Whether a dial failure means the address is our own (a seed that is this node): never retried. */
export function isSelf(err: unknown): boolean {
  return err instanceof HandshakeError && err.refusal === 'selfConnection';
}
