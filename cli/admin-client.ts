// The HTTP client of `troupe status` and `troupe kv`: where the admin server is (--admin URL or
// HOST:PORT, else TROUPE_ADMIN), the token writes carry (--admin-token-file, else
// TROUPE_ADMIN_TOKEN_FILE), and one request with a bound. A server's typed error becomes an
// AdminCallError (printed as `CODE: message`, exit code 1); setup mistakes are UsageErrors.
import { readFileSync } from 'node:fs';
import { UsageError } from './config.js';

/** Bound on one request of the CLI (a watch is not bounded: it runs until interrupted). */
export const CLI_REQUEST_TIMEOUT_MS = 10_000;

export class AdminCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface AdminTarget {
  readonly base: string;
  readonly token?: string;
}

/** `http://host:port`, `https://…` or a bare `host:port`. */
export function adminBase(given: string | undefined, env: NodeJS.ProcessEnv, where = '--admin'): string {
  const value = given ?? env.TROUPE_ADMIN;
  if (value === undefined || value === '')
    throw new UsageError('no admin server: pass --admin URL (or HOST:PORT) or set TROUPE_ADMIN');
  const text = /^https?:\/\//.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${given !== undefined ? where : 'TROUPE_ADMIN'}: not a URL or HOST:PORT: ${value}`);
  }
  if (url.port === '' && !/^https?:\/\/[^/]+:\d+/.test(text))
    throw new UsageError(`${given !== undefined ? where : 'TROUPE_ADMIN'}: give the port: ${value}`);
  return url.origin;
}

export function adminToken(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const path = file ?? env.TROUPE_ADMIN_TOKEN_FILE;
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`--admin-token-file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** One request; resolves with the parsed JSON of a 2xx answer, throws AdminCallError otherwise. */
export async function call(
  target: AdminTarget,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Record<string, unknown>> {
  let r: Response;
  try {
    r = await fetch(target.base + path, {
      ...init,
      headers: {
        ...(init.headers ?? {}),
        ...(target.token !== undefined ? { authorization: `Bearer ${target.token}` } : {}),
      },
      signal: AbortSignal.timeout(CLI_REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new AdminCallError(0, 'ERR_UNREACHABLE', `${target.base}: ${cause}`);
  }
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AdminCallError(r.status, 'ERR_BAD_ANSWER', `${path}: the server answered ${r.status} without JSON`);
  }
  if (!r.ok) {
    const error = (body as { error?: { code?: string; message?: string } }).error;
    throw new AdminCallError(r.status, error?.code ?? `HTTP_${r.status}`, error?.message ?? text);
  }
  return body as Record<string, unknown>;
}

/** Percent-encodes each `/`-separated part of a key (so a key keeps its slashes as path segments). */
export function keyPath(space: string, key: string): string {
  return `/v1/kv/${encodeURIComponent(space)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
