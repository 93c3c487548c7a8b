// Small helpers of the admin server over node:http: JSON answers, a bounded body reader, the
// bearer-token check and query-parameter parsing. Each bad input is an AdminHttpError (4xx).
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminHttpError, badRequest, badRevision } from './errors.js';
import { MAX_BODY_BYTES, MAX_TOKEN_BYTES } from './limits.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Reads the whole body, refusing (413) past MAX_BODY_BYTES, declared or streamed. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge(declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge(size);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const tooLarge = (n: number): AdminHttpError =>
  new AdminHttpError('ERR_ADMIN_TOO_LARGE', 413, `a request body holds at most ${MAX_BODY_BYTES} bytes (got ${n}+)`);

/** Parses a JSON body; a syntax error is 400 ERR_ADMIN_BAD_JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new AdminHttpError('ERR_ADMIN_BAD_JSON', 400, `the body is not JSON: ${(error as Error).message}`);
  }
}

/** A revision from a header or a query parameter: an integer >= 0, else 400 ERR_ADMIN_BAD_REVISION. */
export function parseRevision(text: string, what: string): number {
  const n = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n))
    throw badRevision(`${what} is a revision (an integer >= 0), got ${JSON.stringify(text)}`);
  return n;
}

export function parseLimit(text: string, max: number): number {
  const n = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max)) throw badRequest(`limit is an integer in 1..${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** One header's value (a repeated header is a bad request, not a guess). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  if (Array.isArray(v)) throw badRequest(`the ${name} header is given twice`);
  return v;
}

/** Checks `Authorization: Bearer <token>` in constant time; 401 when it is missing, wrong, or no token is set. */
export function requireToken(req: IncomingMessage, token: Buffer | null): void {
  if (token === null)
    throw new AdminHttpError(
      'ERR_ADMIN_UNAUTHORIZED',
      401,
      'writes are off: this admin server has no token (troupe node --admin-token-file)',
    );
  const given = header(req, 'authorization') ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(given.slice(0, MAX_TOKEN_BYTES + 16));
  // Compare digests: equal lengths, so the comparison leaks neither the token nor its length.
  const digest = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
  if (m === null || !timingSafeEqual(digest(Buffer.from(m[1]!, 'utf8')), digest(token)))
    throw new AdminHttpError('ERR_ADMIN_UNAUTHORIZED', 401, 'a write needs Authorization: Bearer <token>', {});
}
