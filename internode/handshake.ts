// The handshake, before any frame: protocol version, cluster name, node name, incarnation, and
// a mutual HMAC challenge-response over the shared cluster secret (the secret never crosses the
// wire; nonces from crypto.randomBytes; proofs compared in constant time).
//
//   dialer  -> acceptor  hello     {v, cluster, node, inc, addr, nonce}
//   acceptor -> dialer   challenge {v, cluster, node, inc, addr, nonce, proof}   proof by the acceptor
//   dialer  -> acceptor  response  {proof}                                        proof by the dialer
//   acceptor -> dialer   welcome   {}
//
// A wrong version or cluster is refused with that reason; a wrong proof with "authentication
// failed" and nothing else.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { decode, encode } from '../runtime/index.js';
import { validateNodeName, type Clock } from '../runtime/index.js';
import { CLOSE, InternodeError } from './errors.js';
import {
  HANDSHAKE_TIMEOUT_MS,
  MAX_ADDRESS_LENGTH,
  MAX_CLUSTER_NAME_LENGTH,
  MAX_HANDSHAKE_BYTES,
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

/** A refused handshake: the close code and reason sent (or received), for logs and counters. */
export class HandshakeError extends InternodeError {
  readonly closeCode: number;
  constructor(close: { code: number; reason: string }, detail?: string) {
    super('ERR_HANDSHAKE', detail === undefined ? close.reason : `${close.reason}: ${detail}`);
    this.closeCode = close.code;
  }
}

type Hello = { t: 'hello'; v: number; cluster: string; node: string; inc: number; addr: string; nonce: Buffer };
type Challenge = {
  t: 'challenge';
  v: number;
  cluster: string;
  node: string;
  inc: number;
  addr: string;
  nonce: Buffer;
  proof: Buffer;
};
type Response = { t: 'response'; proof: Buffer };
type Welcome = { t: 'welcome' };

function proof(
  secret: Buffer,
  role: 'acceptor' | 'dialer',
  cluster: string,
  dialer: Hello,
  acceptor: Omit<Challenge, 'proof' | 't'>,
): Buffer {
  // msgpack of an array: an unambiguous encoding of every field both sides agreed on.
  const transcript = encode([
    `troupe-${role}`,
    cluster,
    dialer.node,
    dialer.inc,
    dialer.nonce,
    acceptor.node,
    acceptor.inc,
    acceptor.nonce,
  ]);
  return createHmac('sha256', secret).update(transcript).digest();
}

function sameProof(a: Buffer, b: unknown): boolean {
  return Buffer.isBuffer(b) || b instanceof Uint8Array ? a.length === b.length && timingSafeEqual(a, b) : false;
}

function isIdentityShape(m: Record<string, unknown>): boolean {
  return (
    typeof m.v === 'number' &&
    typeof m.cluster === 'string' &&
    m.cluster.length <= MAX_CLUSTER_NAME_LENGTH &&
    typeof m.node === 'string' &&
    typeof m.inc === 'number' &&
    Number.isSafeInteger(m.inc) &&
    m.inc >= 0 &&
    typeof m.addr === 'string' &&
    m.addr.length <= MAX_ADDRESS_LENGTH &&
    (Buffer.isBuffer(m.nonce) || m.nonce instanceof Uint8Array) &&
    m.nonce.length === NONCE_BYTES
  );
}

/** Reads handshake messages one at a time, with one deadline for the whole exchange. */
class Reader {
  readonly #queue: Buffer[] = [];
  #waiter: { resolve: (b: Buffer) => void; reject: (e: unknown) => void } | null = null;
  #failure: HandshakeError | null = null;
  readonly #timer: { cancel(): void };
  done = false;

  constructor(conn: Connection, clock: Clock) {
    conn.setHandlers({
      message: (data) => {
        if (this.done) {
          this.#queue.push(data); // frames that follow the handshake: kept for the caller
          return;
        }
        if (data.length > MAX_HANDSHAKE_BYTES)
          return this.#fail(new HandshakeError(CLOSE.protocolError, 'handshake message too large'));
        if (this.#waiter !== null) {
          const w = this.#waiter;
          this.#waiter = null;
          w.resolve(data);
        } else this.#queue.push(data);
      },
      close: (code, reason) =>
        this.#fail(new HandshakeError({ code, reason: reason === '' ? 'connection closed' : reason })),
    });
    this.#timer = clock.setTimer(HANDSHAKE_TIMEOUT_MS, () => this.#fail(new HandshakeError(CLOSE.handshakeTimeout)));
  }

  #fail(err: HandshakeError): void {
    if (this.done) return;
    this.#failure ??= err;
    if (this.#waiter !== null) {
      const w = this.#waiter;
      this.#waiter = null;
      w.reject(err);
    }
  }

  async next(): Promise<Record<string, unknown>> {
    const data =
      this.#queue.shift() ??
      (this.#failure !== null
        ? undefined
        : await new Promise<Buffer>((resolve, reject) => (this.#waiter = { resolve, reject })));
    if (data === undefined) throw this.#failure!;
    let m: unknown;
    try {
      m = decode(data);
    } catch {
      throw new HandshakeError(CLOSE.protocolError, 'undecodable handshake message');
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m))
      throw new HandshakeError(CLOSE.protocolError, 'handshake message is not a map');
    return m as Record<string, unknown>;
  }

  finish(): Buffer[] {
    this.done = true;
    this.#timer.cancel();
    return this.#queue.splice(0);
  }

  cancel(): void {
    this.done = true;
    this.#timer.cancel();
  }
}

function checkPeer(local: LocalIdentity, m: Record<string, unknown>): PeerIdentity {
  if (m.v !== PROTOCOL_VERSION)
    throw new HandshakeError(CLOSE.versionMismatch, `peer speaks ${String(m.v)}, we speak ${PROTOCOL_VERSION}`);
  if (!isIdentityShape(m)) throw new HandshakeError(CLOSE.protocolError, 'malformed handshake fields');
  if (m.cluster !== local.cluster) throw new HandshakeError(CLOSE.clusterMismatch);
  try {
    validateNodeName(m.node);
  } catch {
    throw new HandshakeError(CLOSE.protocolError, 'bad node name');
  }
  if (m.node === local.node) throw new HandshakeError(CLOSE.selfConnection);
  return { node: m.node as string, incarnation: m.inc as number, address: m.addr as string };
}

async function guarded<T>(conn: Connection, reader: Reader, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    reader.cancel();
    const e = err instanceof HandshakeError ? err : new HandshakeError(CLOSE.protocolError, String(err));
    conn.close(e.closeCode, e.message.split(':')[0]!);
    throw e;
  }
}

/** The dialing side. Resolves with the peer's identity, or rejects with a HandshakeError (and closes). */
export function dialerHandshake(conn: Connection, local: LocalIdentity, clock: Clock): Promise<HandshakeResult> {
  const reader = new Reader(conn, clock);
  return guarded(conn, reader, async () => {
    const hello: Hello = {
      t: 'hello',
      v: PROTOCOL_VERSION,
      cluster: local.cluster,
      node: local.node,
      inc: local.incarnation,
      addr: local.address,
      nonce: randomBytes(NONCE_BYTES),
    };
    conn.send(encode(hello));
    const m = await reader.next();
    if (m.t !== 'challenge') throw new HandshakeError(CLOSE.protocolError, 'expected challenge');
    const peer = checkPeer(local, m);
    const challenge = m as unknown as Challenge;
    const expected = proof(local.secret, 'acceptor', local.cluster, hello, challenge);
    if (!sameProof(expected, challenge.proof)) throw new HandshakeError(CLOSE.authFailed);
    conn.send(
      encode({
        t: 'response',
        proof: proof(local.secret, 'dialer', local.cluster, hello, challenge),
      } satisfies Response),
    );
    const w = await reader.next();
    if (w.t !== 'welcome') throw new HandshakeError(CLOSE.protocolError, 'expected welcome');
    return { peer, pending: reader.finish() };
  });
}

/** The accepting side. */
export function acceptorHandshake(conn: Connection, local: LocalIdentity, clock: Clock): Promise<HandshakeResult> {
  const reader = new Reader(conn, clock);
  return guarded(conn, reader, async () => {
    const m = await reader.next();
    if (m.t !== 'hello') throw new HandshakeError(CLOSE.protocolError, 'expected hello');
    const peer = checkPeer(local, m);
    const hello = m as unknown as Hello;
    const mine = {
      v: PROTOCOL_VERSION,
      cluster: local.cluster,
      node: local.node,
      inc: local.incarnation,
      addr: local.address,
      nonce: randomBytes(NONCE_BYTES),
    };
    const challenge: Challenge = {
      t: 'challenge',
      ...mine,
      proof: proof(local.secret, 'acceptor', local.cluster, hello, mine),
    };
    conn.send(encode(challenge));
    const r = await reader.next();
    if (r.t !== 'response') throw new HandshakeError(CLOSE.protocolError, 'expected response');
    if (!sameProof(proof(local.secret, 'dialer', local.cluster, hello, mine), r.proof))
      throw new HandshakeError(CLOSE.authFailed);
    conn.send(encode({ t: 'welcome' } satisfies Welcome));
    return { peer, pending: reader.finish() };
  });
}

export function secretFrom(value: string | Buffer): Buffer {
  const secret = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (secret.length < 16) throw new InternodeError('ERR_BAD_CONFIG', 'the cluster secret must be at least 16 bytes');
  return secret;
}
