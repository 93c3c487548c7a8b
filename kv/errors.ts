// The KV store's typed error: a TroupeError with the revisions a caller needs to act on it.
import { TroupeError, type KvErrorCode } from '../runtime/base.js';
import type { KvResult } from './types.js';

export interface KvErrorDetails {
  /** ERR_KV_COMPACTED / ERR_KV_FUTURE_REVISION: the space's compacted revision. */
  readonly compactRevision?: number;
  /** ERR_KV_COMPACTED / ERR_KV_FUTURE_REVISION: the space's current revision. */
  readonly currentRevision?: number;
  /** ERR_KV_WATCH_BEHIND: watch again from this revision to miss nothing. */
  readonly resumeRevision?: number;
}

export class KvError extends TroupeError {
  override readonly code: KvErrorCode;
  readonly compactRevision: number | undefined;
  readonly currentRevision: number | undefined;
  readonly resumeRevision: number | undefined;
  constructor(code: KvErrorCode, message: string, details: KvErrorDetails = {}) {
    super(code, message);
    this.code = code;
    this.name = 'KvError';
    this.compactRevision = details.compactRevision;
    this.currentRevision = details.currentRevision;
    this.resumeRevision = details.resumeRevision;
  }
}

/** The KvError an error result stands for (a host throws it to the proposer). */
export function kvErrorOf(result: Extract<KvResult, { type: 'error' }>): KvError {
  return new KvError(result.code, result.message, {
    ...(result.compactRevision !== undefined && { compactRevision: result.compactRevision }),
    ...(result.currentRevision !== undefined && { currentRevision: result.currentRevision }),
  });
}
