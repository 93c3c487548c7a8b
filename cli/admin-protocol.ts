// The admin process's protocol: requests, replies, and their validation. Every request from the
// network is untrusted: checked field by field, answered with a typed AdminError when it is bad.
import { TroupeError, isPid, type Pid } from '../runtime/index.js';
import type { MemberInfo } from '../internode/index.js';

export const ADMIN_NAME = 'troupe';
/** Longest group, name or prefix a request may carry (the registries' own bound). */
export const MAX_ADMIN_STRING = 255;

/** What every `troupe node` answers. */
export type AdminRequest =
  | { readonly op: 'info' }
  | { readonly op: 'ping' }
  | { readonly op: 'echo'; readonly value: unknown }
  | { readonly op: 'pg-members'; readonly group: string }
  | { readonly op: 'whereis'; readonly name: string }
  | { readonly op: 'names-count' }
  /** Counters of every subsystem (internode, runtime, pg, registry, the admin process itself). */
  | { readonly op: 'stats' };

export interface AdminInfo {
  readonly node: string;
  readonly incarnation: number;
  readonly address: string;
  readonly members: MemberInfo[];
  readonly processes: number;
}

/** The reply to a request that could not be served; `code` is from docs/errors.md. */
export interface AdminError {
  readonly type: 'admin-error';
  readonly code: string;
  readonly message: string;
}

export const isAdminError = (m: unknown): m is AdminError =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'admin-error';

export function adminError(error: unknown): AdminError {
  if (error instanceof TroupeError) return { type: 'admin-error', code: error.code, message: error.message };
  return { type: 'admin-error', code: 'ERR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** A plain message `{ type: 'whoami', from }` sent to `{ node, name: 'troupe' }` gets `{ type: 'iam', pid }` back. */
export interface WhoAmI {
  readonly type: 'whoami';
  readonly from: Pid;
}

const badRequest = (message: string): TroupeError => new TroupeError('ERR_BAD_ARGUMENT', `admin request: ${message}`);

/** The request's object form, or ERR_BAD_ARGUMENT. */
export function requestObject(request: unknown): Record<string, unknown> & { op: string } {
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw badRequest(`expected an object with an op, got ${request === null ? 'null' : typeof request}`);
  const op = (request as { op?: unknown }).op;
  if (typeof op !== 'string') throw badRequest('op must be a string');
  return request as Record<string, unknown> & { op: string };
}

export function stringField(request: Record<string, unknown>, field: string): string {
  const value = request[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ADMIN_STRING)
    throw badRequest(`${field} must be a string of 1..${MAX_ADMIN_STRING} characters`);
  return value;
}

export function countField(request: Record<string, unknown>, field: string, max: number): number {
  const value = request[field];
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max)
    throw badRequest(`${field} must be an integer in 0..${max}`);
  return value as number;
}

export function pidField(request: Record<string, unknown>, field: string): Pid {
  const value = request[field];
  if (!isPid(value)) throw badRequest(`${field} must be a pid`);
  return value;
}

export { badRequest };
