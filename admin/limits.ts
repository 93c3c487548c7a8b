// Limits of the admin HTTP surface, in one place. Every bound of the server (bytes, headers,
// connections, time, event streams, remembered events) is one named constant; their
// relationships are asserted when this module loads, so a bad edit fails at start.
import { TroupeError } from '../runtime/index.js';
import { HARD_SPACE_LIMITS, MAX_SCAN_LIMIT } from '../kv/index.js';

/** Largest request body (a KV value with its JSON envelope): past it, 413 ERR_ADMIN_TOO_LARGE. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Largest request head (request line and headers), node:http's `maxHeaderSize`: past it, 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Connections the server holds at once (node:http's `maxConnections`): past it, new ones are closed. */
export const MAX_CONNECTIONS = 256;
/** Time to receive a whole request (node:http's `requestTimeout`): past it, 408. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Time to receive the request head (node:http's `headersTimeout`). */
export const HEADERS_TIMEOUT_MS = 5_000;
/** An idle keep-alive connection is closed after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Bound on one KV operation a request makes (its `timeout`): past it, 504 ERR_TIMEOUT. */
export const KV_CALL_TIMEOUT_MS = 5_000;
/** Server-Sent Event streams (KV watches) open at once: past it, 503 ERR_ADMIN_BUSY. */
export const MAX_SSE_STREAMS = 64;
/** A comment line on every open event stream this often, so proxies and clients see it alive. */
export const SSE_HEARTBEAT_MS = 15_000;
/** Bytes an event stream may have unsent in the socket: past it, the stream ends (a slow reader). */
export const MAX_SSE_BUFFER_BYTES = 4 * 1024 * 1024;
/** Membership events remembered for the views and the dashboard (oldest go first). */
export const MAX_RECENT_EVENTS = 100;
/** Groups (pg) and peers listed in one view at most; a longer list is cut and says `truncated`. */
export const MAX_VIEW_ITEMS = 1_000;
/** How often the event loop's lag is sampled (a timer that measures how late it fires). */
export const LOOP_SAMPLE_MS = 500;
/** /livez fails when the loop was this late, or when no sample ran for this long. */
export const MAX_LOOP_LAG_MS = 2_000;
/** Shortest bearer token accepted (bytes, once trimmed). */
export const MIN_TOKEN_BYTES = 16;
/** Longest `Authorization` header value compared. */
export const MAX_TOKEN_BYTES = 1_024;
/** A scan page over HTTP holds at most this many keys (`limit`), as the KV store's own bound. */
export const MAX_HTTP_SCAN_LIMIT = MAX_SCAN_LIMIT;
/** Bound on the admin server's own stop: open streams end, idle sockets close, busy ones are cut. */
export const ADMIN_STOP_TIMEOUT_MS = 2_000;

function assertBelow(small: number, smallName: string, large: number, largeName: string): void {
  if (!(small < large))
    throw new TroupeError('ERR_BAD_CONFIG', `${smallName} (${small}) not below ${largeName} (${large})`);
}

assertBelow(HEADERS_TIMEOUT_MS, 'HEADERS_TIMEOUT_MS', REQUEST_TIMEOUT_MS + 1, 'REQUEST_TIMEOUT_MS');
assertBelow(KV_CALL_TIMEOUT_MS, 'KV_CALL_TIMEOUT_MS', REQUEST_TIMEOUT_MS + 1, 'REQUEST_TIMEOUT_MS');
assertBelow(
  (HARD_SPACE_LIMITS.maxValueBytes * 4) / 3,
  'a base64 value of HARD_SPACE_LIMITS.maxValueBytes',
  MAX_BODY_BYTES,
  'MAX_BODY_BYTES',
);
assertBelow(MAX_SSE_STREAMS, 'MAX_SSE_STREAMS', MAX_CONNECTIONS, 'MAX_CONNECTIONS');
assertBelow(LOOP_SAMPLE_MS, 'LOOP_SAMPLE_MS', MAX_LOOP_LAG_MS, 'MAX_LOOP_LAG_MS');
assertBelow(MIN_TOKEN_BYTES, 'MIN_TOKEN_BYTES', MAX_TOKEN_BYTES, 'MAX_TOKEN_BYTES');
