// Typed errors. Every error troupe raises on purpose is a TroupeError with a stable `code`,
// so callers can branch on `err.code` rather than on message text.

export type ErrorCode =
  | 'ERR_BAD_PID'
  | 'ERR_BAD_NAME'
  | 'ERR_NAME_TAKEN'
  | 'ERR_NOT_REGISTERED'
  | 'ERR_NOPROC'
  | 'ERR_NO_SUCH_NAME'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_EXITED'
  | 'ERR_NOT_IN_PROCESS'
  | 'ERR_NODE_STOPPED'
  | 'ERR_MAILBOX_FULL'
  | 'ERR_LIMIT'
  | 'ERR_CALL_FAILED'
  | 'ERR_BAD_ARGUMENT'
  | 'ERR_SUPERVISOR'
  | 'ERR_NO_ROUTE'
  | 'ERR_CALLEE_EXITED'
  | 'ERR_NOCONNECTION'
  | 'ERR_RECEIVE_PENDING'
  | 'ERR_ALREADY_NAMED'
  | 'ERR_BACKPRESSURE'
  | 'ERR_DECODE';

export class TroupeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TroupeError';
  }
}

/** Type guard for a TroupeError, optionally of one code. */
export function isTroupeError(err: unknown, code?: ErrorCode): err is TroupeError {
  return err instanceof TroupeError && (code === undefined || err.code === code);
}
