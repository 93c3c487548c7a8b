// Every limit of the runtime, in one place.

/** Default bound on a process's mailbox (messages). Large: a bound against runaway growth, not a tuning knob. */
export const DEFAULT_MAILBOX_LIMIT = 1_000_000;
/** Upper bound a user may configure for one mailbox. */
export const MAX_MAILBOX_LIMIT = 100_000_000;
/** Longest name of a node or of a registered process (local, eventual or consistent): one limit for all. */
export const MAX_NAME_LENGTH = 255;
/** Longest local registered name. */
export const MAX_REGISTERED_NAME_LENGTH = MAX_NAME_LENGTH;
/**
 * Awaitable sends (`sendAwait`) one local mailbox may hold waiting for room; one more is ERR_LIMIT
 * (internode's MAX_ROOM_WAITERS bounds the same for a link's queue).
 */
export const MAX_SEND_WAITERS = 10_000;
/** Default timeout of `call`, as in gen_server. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;
/** How long `Node.stop()` waits for processes to handle `shutdown` before killing them. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;
/** Default time a supervisor gives a child to exit on `shutdown` before killing it. */
export const DEFAULT_CHILD_SHUTDOWN_MS = 5_000;
/** Default bound on a supervisor's children (`maxChildren`): static and dynamic ones together. */
export const DEFAULT_MAX_CHILDREN = 100_000;
/** Largest `maxChildren` a supervisor accepts. */
export const MAX_SUPERVISOR_CHILDREN = 10_000_000;
/** Default restart intensity (restarts) within DEFAULT_RESTART_PERIOD_MS, as in OTP. */
export const DEFAULT_RESTART_INTENSITY = 1;
export const DEFAULT_RESTART_PERIOD_MS = 5_000;
/** Live processes one node may hold; spawn beyond it is a typed error. */
export const MAX_PROCESSES = 10_000_000;
/** Process ids wrap before they stop being safe integers. */
export const MAX_PROCESS_ID = Number.MAX_SAFE_INTEGER;
/** Largest frame body on the wire: the largest message with its envelope (internode's MAX_FRAME_BODY_BYTES). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/**
 * Room a message leaves in MAX_MESSAGE_BYTES for its envelope on the wire (the signal with sender
 * and target pids or name, a call's reply address): a message encodes to at most
 * MAX_MESSAGE_BYTES - MESSAGE_ENVELOPE_BYTES bytes, checked at the sender for local targets too.
 */
export const MESSAGE_ENVELOPE_BYTES = 2048;
/**
 * Past this lower bound of its encoded size, a send encodes the message once to check its exact
 * size (below it, no message can be too large: an encoding is at most 9 times the lower bound).
 */
export const EXACT_SIZE_CHECK_BYTES = Math.floor((MAX_MESSAGE_BYTES - MESSAGE_ENVELOPE_BYTES) / 9);
/** Deepest nesting of arrays, objects, maps, sets and errors in a message (the root is depth 0). */
export const MAX_MESSAGE_DEPTH = 64;
