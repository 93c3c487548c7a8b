// The handshake, before any frame. The dialer proves it knows the cluster secret before the
// acceptor reveals anything about itself or signs anything; the acceptor's proof is bound to the
// dialer's fresh nonce. The secret never crosses the wire; nonces come from crypto.randomBytes;
// proofs are compared in constant time.
//
//   dialer   -> acceptor  hello     {t, v, cluster, nonce: Nd}
//   acceptor -> dialer    challenge {t, nonce: Na}                         nothing else
//   dialer   -> acceptor  auth      {t, node, inc, addr, proof: HMAC(secret, dialer transcript)}
//   acceptor -> dialer    welcome   {t, node, inc, addr, proof: HMAC(secret, acceptor transcript)}
//   dialer   -> acceptor  ready     {t}                                    frames may follow at once
//
// A peer that does not know the secret learns that a troupe node of this version and cluster
// listens here, a random nonce, and then "authentication failed": no name, no incarnation, no
// address, and no value computed from the secret. Admission (self, stale incarnation, a name in
// use, a full table) is decided once the peer is authenticated, before welcome (acceptor) or
// ready (dialer), so a refused node is told why and never sees the other side up.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { decode, encode, validateNodeName, type Clock } from '../runtime/index.js';
import { HandshakeError, InternodeError, refusalOf, type Refusal } from './errors.js';
import {
  HANDSHAKE_TIMEOUT_MS,
  MAX_ADDRESS_LENGTH,
  MAX_CLUSTER_NAME_LENGTH,
  MAX_EARLY_FRAMES_MESSAGES,
  MAX_HANDSHAKE_BYTES,
  MAX_HANDSHAKE_MESSAGES_AHEAD,
  MAX_WS_MESSAGE_BYTES,
  NONCE_BYTES,
  PROTOCOL_VERSION,
} from './limits.js';
import type { Connection } from './transport.js';

export interface LocalIdentity {
  readonly cluster: string;
  readonly node: string;
  readonly incarnation: number;
  /** The address peers can dial us on ('' if we do not listen). */
  readonly address: string;
  readonly secret: Buffer;
}

export interface PeerIdentity {
  readonly node: string;
  readonly incarnation: number;
  readonly address: string;
}

export interface HandshakeResult {
  readonly peer: PeerIdentity;
  /** Frames that arrived right after the handshake, before the caller took over the connection. */
  readonly pending: Buffer[];
}

/** Decides whether an authenticated peer may connect: undefined to go on, or the refusal. */
export type Admit = (peer: PeerIdentity) => Refusal | undefined | Promise<Refusal | undefined>;

/** Bytes held by handshakes still reading, shared by all connections of a node. */
export class PreAuthBudget {
  readonly max: number;
  used = 0;
  constructor(max: number) {
    this.max = max;
  }
}

export interface HandshakeOptions {
  /** Admission of the authenticated peer (default: everyone). */
  readonly admit?: Admit;
  /** Node-wide bound on bytes queued by handshakes (default: none beyond the per-connection one). */
  readonly budget?: PreAuthBudget;
  /** Largest message accepted once authenticated. */
  readonly maxMessageBytes?: number;
  /** Aborting refuses the handshake; a HandshakeError as the reason says with what (else 'shuttingDown'). */
  readonly signal?: AbortSignal;
}

const bytesOf = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function hmac(secret: Buffer, transcript: unknown[]): Buffer {
  // msgpack of an array: an unambiguous encoding of every field both sides agreed on.
  return createHmac('sha256', secret).update(encode(transcript)).digest();
}

function sameProof(a: Buffer, b: unknown): boolean {
  return bytesOf(b) && a.length === b.length && timingSafeEqual(a, b);
}

/** The dialer's transcript: role tag, both nonces, its identity. */
function dialerProof(secret: Buffer, cluster: string, nd: Uint8Array, na: Uint8Array, me: PeerIdentity): Buffer {
  return hmac(secret, ['troupe-dialer', PROTOCOL_VERSION, cluster, nd, na, me.node, me.incarnation, me.address]);
}

/** The acceptor's transcript: bound to the dialer's fresh nonce and identity as well as its own. */
function acceptorProof(
  secret: Buffer,
  cluster: string,
  nd: Uint8Array,
  na: Uint8Array,
  dialer: PeerIdentity,
  me: PeerIdentity,
): Buffer {
  return hmac(secret, [
    'troupe-acceptor',
    PROTOCOL_VERSION,
    cluster,
    nd,
    na,
    dialer.node,
    dialer.incarnation,
    me.node,
    me.incarnation,
    me.address,
  ]);
}

const malformed = (what: string): HandshakeError => new HandshakeError('protocolError', 'us', what);

/** The identity fields of an auth or welcome message, validated. */
function identityOf(m: Record<string, unknown>): PeerIdentity {
  if (typeof m.inc !== 'number' || !Number.isSafeInteger(m.inc) || m.inc < 0) throw malformed('bad incarnation');
  if (typeof m.addr !== 'string' || m.addr.length > MAX_ADDRESS_LENGTH) throw malformed('bad address');
  try {
    validateNodeName(m.node);
  } catch {
    throw malformed('bad node name');
  }
  return { node: m.node as string, incarnation: m.inc, address: m.addr };
}

/** Reads handshake messages one at a time, with one deadline for the whole exchange, in bounded memory. */
class Reader {
  readonly #conn: Connection;
  readonly #budget: PreAuthBudget | undefined;
  readonly #queue: Buffer[] = [];
  #charged = 0;
  /** Bytes of frames kept between the end of the handshake and the caller taking over. */
  #earlyBytes = 0;
  #waiter: { resolve: (b: Buffer) => void; reject: (e: unknown) => void } | null = null;
  #failure: HandshakeError | null = null;
  readonly #timer: { cancel(): void };
  #done = false;
  /** The message awaited is the last of the handshake: whatever follows it is frames. */
  #last = false;

  constructor(conn: Connection, clock: Clock, budget: PreAuthBudget | undefined) {
    this.#conn = conn;
    this.#budget = budget;
    conn.setHandlers({
      message: (data) => {
        if (this.#failure !== null) return; // refused: nothing more is read or kept
        if (this.#done) {
          // Frames that follow the handshake, kept for the caller (which takes over in a moment).
          this.#earlyBytes += data.length;
          if (this.#queue.length >= MAX_EARLY_FRAMES_MESSAGES || this.#earlyBytes > MAX_WS_MESSAGE_BYTES)
            this.#fail(malformed('too many early frames'));
          else this.#queue.push(data);
          return;
        }
        if (data.length > MAX_HANDSHAKE_BYTES) return this.#fail(malformed('handshake message too large'));
        if (this.#waiter !== null) {
          const w = this.#waiter;
          this.#waiter = null;
          if (this.#last) this.#done = true; // frames may follow in the same turn
          w.resolve(data);
          return;
        }
        if (this.#queue.length >= MAX_HANDSHAKE_MESSAGES_AHEAD) return this.#fail(malformed('messages out of turn'));
        if (budget !== undefined && budget.used + data.length > budget.max)
          return this.#fail(new HandshakeError('tooManyPending', 'us', 'pre-authentication bytes'));
        this.#charge(data.length);
        this.#queue.push(data);
      },
      close: (code, reason) => {
        const refusal = refusalOf(code);
        this.#fail(new HandshakeError(refusal ?? 'closed', 'peer', refusal === undefined ? reason : undefined, code));
      },
    });
    this.#timer = clock.setTimer(HANDSHAKE_TIMEOUT_MS, () => this.#fail(new HandshakeError('handshakeTimeout', 'us')));
  }

  #charge(bytes: number): void {
    this.#charged += bytes;
    if (this.#budget !== undefined) this.#budget.used += bytes;
  }

  #release(): void {
    if (this.#budget !== undefined) this.#budget.used -= this.#charged;
    this.#charged = 0;
  }

  #fail(err: HandshakeError): void {
    if (this.#failure !== null) return;
    this.#failure = err;
    this.#queue.length = 0;
    this.#release();
    this.#timer.cancel();
    if (this.#waiter !== null) {
      const w = this.#waiter;
      this.#waiter = null;
      w.reject(err);
    }
  }

  /** Rejects with the failure, if one happened meanwhile (an admission may take a while). */
  check(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  async next(expected: string, last = false): Promise<Record<string, unknown>> {
    this.check();
    this.#last = last;
    let data = this.#queue.shift();
    if (data !== undefined) {
      this.#charged -= data.length;
      if (this.#budget !== undefined) this.#budget.used -= data.length;
    } else data = await new Promise<Buffer>((resolve, reject) => (this.#waiter = { resolve, reject }));
    let m: unknown;
    try {
      m = decode(data);
    } catch {
      throw malformed('undecodable handshake message');
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m) || m instanceof Uint8Array)
      throw malformed('handshake message is not a map');
    const message = m as Record<string, unknown>;
    if (message.t !== expected) throw malformed(`expected ${expected}`);
    return message;
  }

  /** The handshake is over: later messages are frames for the caller. */
  finish(): Buffer[] {
    this.check();
    this.#done = true;
    this.#timer.cancel();
    this.#release();
    return this.#queue.splice(0);
  }

  refuse(err: HandshakeError): void {
    this.#fail(err);
    this.#conn.close(err.closeCode, err.reason);
  }
}

async function guarded<T>(reader: Reader, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  const onAbort = (): void =>
    reader.refuse(signal?.reason instanceof HandshakeError ? signal.reason : new HandshakeError('shuttingDown', 'us'));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await run();
  } catch (err) {
    const e =
      err instanceof HandshakeError ? err : new HandshakeError('protocolError', 'us', (err as Error)?.message ?? '');
    // Our refusal is sent with its bare reason; a close by the peer needs no answer.
    reader.refuse(e); // our refusal goes out with its bare reason; after the peer's close it is a no-op
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The dialing side. Resolves with the peer's identity, or rejects with a HandshakeError (and closes). */
export function dialerHandshake(
  conn: Connection,
  local: LocalIdentity,
  clock: Clock,
  options: HandshakeOptions = {},
): Promise<HandshakeResult> {
  const reader = new Reader(conn, clock, options.budget);
  return guarded(reader, options.signal, async () => {
    const nd = randomBytes(NONCE_BYTES);
    conn.send(encode({ t: 'hello', v: PROTOCOL_VERSION, cluster: local.cluster, nonce: nd }));
    const challenge = await reader.next('challenge');
    if (!bytesOf(challenge.nonce) || challenge.nonce.length !== NONCE_BYTES) throw malformed('bad nonce');
    const na = challenge.nonce;
    const me: PeerIdentity = { node: local.node, incarnation: local.incarnation, address: local.address };
    conn.send(
      encode({
        t: 'auth',
        node: me.node,
        inc: me.incarnation,
        addr: me.address,
        proof: dialerProof(local.secret, local.cluster, nd, na, me),
      }),
    );
    const welcome = await reader.next('welcome');
    const peer = identityOf(welcome);
    if (!sameProof(acceptorProof(local.secret, local.cluster, nd, na, me, peer), welcome.proof))
      throw new HandshakeError('authFailed', 'us');
    conn.authenticated(options.maxMessageBytes ?? MAX_WS_MESSAGE_BYTES);
    if (peer.node === local.node) throw new HandshakeError('selfConnection', 'us');
    const refusal = await options.admit?.(peer);
    reader.check();
    if (refusal !== undefined) throw new HandshakeError(refusal, 'us');
    conn.send(encode({ t: 'ready' }));
    return { peer, pending: reader.finish() };
  });
}

/** The accepting side. */
export function acceptorHandshake(
  conn: Connection,
  local: LocalIdentity,
  clock: Clock,
  options: HandshakeOptions = {},
): Promise<HandshakeResult> {
  const reader = new Reader(conn, clock, options.budget);
  return guarded(reader, options.signal, async () => {
    const hello = await reader.next('hello');
    if (hello.v !== PROTOCOL_VERSION)
      throw new HandshakeError('versionMismatch', 'us', `peer speaks ${String(hello.v)}, we speak ${PROTOCOL_VERSION}`);
    if (typeof hello.cluster !== 'string' || hello.cluster.length > MAX_CLUSTER_NAME_LENGTH)
      throw malformed('bad cluster name');
    if (!bytesOf(hello.nonce) || hello.nonce.length !== NONCE_BYTES) throw malformed('bad nonce');
    if (hello.cluster !== local.cluster) throw new HandshakeError('clusterMismatch', 'us');
    const nd = hello.nonce;
    const na = randomBytes(NONCE_BYTES);
    conn.send(encode({ t: 'challenge', nonce: na }));
    const auth = await reader.next('auth');
    const peer = identityOf(auth);
    if (!sameProof(dialerProof(local.secret, local.cluster, nd, na, peer), auth.proof))
      throw new HandshakeError('authFailed', 'us');
    // Authenticated: from here on the peer may learn who we are, and why we refuse it.
    conn.authenticated(options.maxMessageBytes ?? MAX_WS_MESSAGE_BYTES);
    if (peer.node === local.node) throw new HandshakeError('selfConnection', 'us');
    const refusal = await options.admit?.(peer);
    reader.check();
    if (refusal !== undefined) throw new HandshakeError(refusal, 'us');
    const me: PeerIdentity = { node: local.node, incarnation: local.incarnation, address: local.address };
    conn.send(
      encode({
        t: 'welcome',
        node: me.node,
        inc: me.incarnation,
        addr: me.address,
        proof: acceptorProof(local.secret, local.cluster, nd, na, peer, me),
      }),
    );
    await reader.next('ready', true);
    return { peer, pending: reader.finish() };
  });
}

/** The cluster secret as bytes, trimmed of surrounding whitespace (as the CLI trims a cookie file). */
export function secretFrom(value: string | Buffer): Buffer {
  if (typeof value !== 'string' && !Buffer.isBuffer(value))
    throw new InternodeError('ERR_BAD_CONFIG', 'the cluster secret is required (a string or Buffer of 16+ bytes)');
  const secret = Buffer.from((typeof value === 'string' ? value : value.toString('utf8')).trim(), 'utf8');
  if (secret.length < 16) throw new InternodeError('ERR_BAD_CONFIG', 'the cluster secret must be at least 16 bytes');
  return secret;
}
