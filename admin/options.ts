// The `admin` option of Cluster.start, and its validation: every mistake is ERR_BAD_CONFIG naming
// `admin.<field>`, before anything starts. Off by default; `troupe node --admin` turns it on.
import { TroupeError } from '../runtime/index.js';
import { MIN_TOKEN_BYTES, MAX_TOKEN_BYTES } from './limits.js';

export interface AdminOptions {
  /** `host:port` for the admin HTTP server (port 0 picks one). Keep it on loopback unless told otherwise. */
  readonly listen: string;
  /** The bearer token writes need (at least 16 bytes, trimmed). Without it, writes answer 401. */
  readonly token?: string | Uint8Array;
  /** Which members /readyz waits for: a count including this node, or names (default: the Raft voters, else 1). */
  readonly expect?: number | readonly string[];
}

export interface ResolvedAdminOptions {
  readonly listen: string;
  readonly token: Buffer | null;
  readonly expect?: number | readonly string[];
}

const bad = (option: string, what: string): TroupeError =>
  Object.assign(new TroupeError('ERR_BAD_CONFIG', `admin.${option}: ${what}`), { option: `admin.${option}` });

export function resolveAdminOptions(options: AdminOptions): ResolvedAdminOptions {
  if (typeof options !== 'object' || options === null) throw bad('listen', 'admin takes { listen, token? }');
  const listen = options.listen;
  const m = typeof listen === 'string' ? /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen) : null;
  if (m === null || Number(m[2]) > 65_535)
    throw bad('listen', `expected host:port with a port in 0..65535, got ${JSON.stringify(listen)}`);
  let token: Buffer | null = null;
  if (options.token !== undefined) {
    if (typeof options.token !== 'string' && !(options.token instanceof Uint8Array))
      throw bad('token', 'the token is a string or bytes');
    const text = typeof options.token === 'string' ? options.token : Buffer.from(options.token).toString('utf8');
    token = Buffer.from(text.trim(), 'utf8');
    if (token.length < MIN_TOKEN_BYTES || token.length > MAX_TOKEN_BYTES || /\s/.test(token.toString('utf8')))
      throw bad(
        'token',
        `a token is ${MIN_TOKEN_BYTES}..${MAX_TOKEN_BYTES} bytes without whitespace (got ${token.length})`,
      );
  }
  const expect = options.expect;
  if (expect !== undefined) {
    const ok =
      (typeof expect === 'number' && Number.isSafeInteger(expect) && expect >= 1) ||
      (Array.isArray(expect) && expect.length > 0 && expect.every((n) => typeof n === 'string'));
    if (!ok) throw bad('expect', 'a count of nodes (>= 1) or a list of node names');
  }
  return { listen, token, ...(expect !== undefined ? { expect } : {}) };
}
