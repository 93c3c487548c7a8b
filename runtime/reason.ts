// Exit reasons follow Erlang: 'normal', 'kill' (untrappable when sent with exit()), 'killed'
// (what a killed process dies with), 'shutdown', 'noproc', 'noconnection', or an Error.
// Any other string is allowed as a custom reason.

export type WellKnownReason = 'normal' | 'kill' | 'killed' | 'shutdown' | 'noproc' | 'noconnection';

// `string & {}` keeps the well-known names in editor completion while allowing others.
export type ExitReason = WellKnownReason | (string & {}) | Error;

/** A reason that does not count as a failure (transient children are not restarted). */
export function isCleanExit(reason: ExitReason): boolean {
  return reason === 'normal' || reason === 'shutdown';
}

export function formatReason(reason: ExitReason): string {
  return typeof reason === 'string' ? reason : `${reason.name}: ${reason.message}`;
}

/** The wire shape of a reason: strings as they are, errors as {name, message, code?, stack?}. */
export type WireReason = string | { name: string; message: string; code?: string; stack?: string };

export function reasonToWire(reason: ExitReason): WireReason {
  if (typeof reason === 'string') return reason;
  const code = (reason as { code?: unknown }).code;
  return {
    name: reason.name,
    message: reason.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(reason.stack !== undefined ? { stack: reason.stack } : {}),
  };
}

/** A reason that crossed the wire; an Error rebuilt from its fields. */
export class RemoteError extends Error {
  readonly code: string | undefined;
  constructor(fields: { name: string; message: string; code?: string; stack?: string }) {
    super(fields.message);
    this.name = fields.name;
    this.code = fields.code;
    if (fields.stack !== undefined) this.stack = fields.stack;
  }
}

export function reasonFromWire(wire: unknown): ExitReason {
  if (typeof wire === 'string') return wire;
  if (typeof wire === 'object' && wire !== null) {
    const w = wire as Record<string, unknown>;
    if (typeof w.name === 'string' && typeof w.message === 'string') {
      return new RemoteError({
        name: w.name,
        message: w.message,
        ...(typeof w.code === 'string' ? { code: w.code } : {}),
        ...(typeof w.stack === 'string' ? { stack: w.stack } : {}),
      });
    }
  }
  return 'badreason';
}
