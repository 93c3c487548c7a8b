// Typed errors of the eventual registry (TroupeErrors with a stable code).
import { TroupeError } from '../../runtime/base.js';
import type { Pid } from '../../runtime/base.js';

/** The name is already held (in this replica's view) by another process. */
export class NameTakenError extends TroupeError {
  readonly registeredName: string;
  readonly owner: Pid;
  constructor(name: string, owner: Pid) {
    super('ERR_NAME_TAKEN', `eventual registry: ${JSON.stringify(name)} is held by ${owner.toString()}`);
    this.registeredName = name;
    this.owner = owner;
  }
}

/** unregister of a name this node's process does not hold. */
export class NotRegisteredError extends TroupeError {
  readonly registeredName: string;
  constructor(name: string) {
    super(
      'ERR_NOT_REGISTERED',
      `eventual registry: ${JSON.stringify(name)} is not registered by a process of this node`,
    );
    this.registeredName = name;
  }
}

/** A name that is not a 1..MAX_NAME_LENGTH string. */
export class BadRegistryNameError extends TroupeError {
  constructor(name: unknown, max: number) {
    super(
      'ERR_BAD_NAME',
      `eventual registry: name must be a string of 1..${max} chars, ` +
        `got ${typeof name === 'string' ? `${name.length} chars` : typeof name}`,
    );
  }
}

/** The pid is not a process of this node incarnation (claims are made by the owner's node). */
export class NotLocalPidError extends TroupeError {
  readonly pid: unknown;
  constructor(pid: unknown, node: string, incarnation: number) {
    super('ERR_BAD_ARGUMENT', `eventual registry: ${String(pid)} is not a pid of ${node} incarnation ${incarnation}`);
    this.pid = pid;
  }
}

/** A named limit would be exceeded; nothing changed. */
export class RegistryLimitError extends TroupeError {
  readonly limit: string;
  readonly max: number;
  constructor(limit: string, max: number) {
    super('ERR_LIMIT', `eventual registry: limit ${limit} = ${max} reached`);
    this.limit = limit;
    this.max = max;
  }
}

/** A registry message from the wire without the expected shape or bounds. */
export class RegistryMalformedError extends TroupeError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('ERR_MALFORMED', `eventual registry: malformed message: ${detail}`, options);
  }
}

/** Options outside their bounds. */
export class RegistryConfigError extends TroupeError {
  constructor(detail: string) {
    super('ERR_BAD_ARGUMENT', `eventual registry: bad option: ${detail}`);
  }
}
