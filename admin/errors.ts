// The admin surface's typed error and how every error becomes an HTTP answer: a status and a
// JSON body `{ error: { code, message } }`. Library errors keep their own code (ERR_KV_…,
// ERR_RAFT_…) with the status that says who must act; an unexpected one is 500 ERR_ADMIN_INTERNAL.
import { TroupeError, type AdminErrorCode, type ErrorCode } from '../runtime/base.js';

export class AdminHttpError extends TroupeError {
  override readonly code: AdminErrorCode;
  readonly status: number;
  /** Extra fields of the error body (the current key of a failed CAS, the allowed methods). */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: AdminErrorCode, status: number, message: string, details: Record<string, unknown> = {}) {
    super(code, message);
    this.name = 'AdminHttpError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** The HTTP status of a library error, by code; a code not listed here is the server's fault (500). */
const STATUS: Partial<Record<ErrorCode, number>> = {
  ERR_BAD_ARGUMENT: 400,
  ERR_KV_NO_SPACE: 404,
  ERR_KV_KEY_TOO_LARGE: 400,
  ERR_KV_VALUE_TOO_LARGE: 413,
  ERR_KV_TXN_TOO_LARGE: 400,
  ERR_KV_SPACE_FULL: 409,
  ERR_KV_NO_LEASE: 400,
  ERR_KV_COMPACTED: 410,
  ERR_KV_FUTURE_REVISION: 400,
  ERR_KV_BAD_COMMAND: 400,
  ERR_KV_WATCH_BEHIND: 410,
  ERR_KV_TOO_MANY_WATCHERS: 503,
  ERR_TIMEOUT: 504,
  ERR_ABORTED: 503,
  ERR_STOPPED: 503,
  ERR_BAD_CONFIG: 503,
  ERR_RAFT_INDETERMINATE: 504,
  ERR_RAFT_NO_LEADER: 503,
  ERR_RAFT_NOT_LEADER: 503,
  ERR_RAFT_NOT_READY: 503,
  ERR_RAFT_OVERLOADED: 503,
  ERR_RAFT_TRANSFERRING: 503,
  ERR_RAFT_TOO_MUCH_UNCOMMITTED: 503,
  ERR_RAFT_TOO_MANY_READS: 503,
  ERR_RAFT_DROPPED: 503,
  ERR_RAFT_NO_GROUP: 503,
};

/** Revision fields a KV error carries, passed on so a client can act (resume, read from). */
const CARRIED = ['compactRevision', 'currentRevision', 'resumeRevision'] as const;

export interface ErrorAnswer {
  readonly status: number;
  readonly body: { readonly error: Record<string, unknown> & { code: string; message: string } };
  /** Whether the server did not expect it (logged with its cause). */
  readonly unexpected: boolean;
}

export function answerOf(error: unknown): ErrorAnswer {
  if (error instanceof AdminHttpError)
    return {
      status: error.status,
      body: { error: { code: error.code, message: error.message, ...error.details } },
      unexpected: false,
    };
  if (error instanceof TroupeError) {
    const status = STATUS[error.code];
    if (status !== undefined) {
      const extra: Record<string, unknown> = {};
      for (const f of CARRIED) {
        const v = (error as unknown as Record<string, unknown>)[f];
        if (typeof v === 'number') extra[f] = v;
      }
      // The write may still commit: say so in a field a client can branch on.
      if (error.code === 'ERR_RAFT_INDETERMINATE') extra['indeterminate'] = true;
      return { status, body: { error: { code: error.code, message: error.message, ...extra } }, unexpected: false };
    }
  }
  return {
    status: 500,
    body: { error: { code: 'ERR_ADMIN_INTERNAL', message: 'the admin server failed on this request (logged)' } },
    unexpected: true,
  };
}

export const notFound = (what: string): AdminHttpError => new AdminHttpError('ERR_ADMIN_NOT_FOUND', 404, what);
export const badRequest = (what: string): AdminHttpError => new AdminHttpError('ERR_ADMIN_BAD_REQUEST', 400, what);
export const badRevision = (what: string): AdminHttpError => new AdminHttpError('ERR_ADMIN_BAD_REVISION', 400, what);
export const unavailable = (what: string): AdminHttpError => new AdminHttpError('ERR_ADMIN_UNAVAILABLE', 503, what);
