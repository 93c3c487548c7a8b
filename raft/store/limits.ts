// Limits of the durable log store, in one place.

/** Groups one store holds (each is two LMDB databases). */
export const MAX_STORE_GROUPS = 32;
/** A group id is short ASCII: it names LMDB databases and travels in every raft frame. */
export const MAX_GROUP_ID_BYTES = 64;
export const GROUP_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
/** Format of the data directory; a store refuses a directory of another format. */
export const STORE_FORMAT_VERSION = 1;
