// A small stable hash (FNV-1a, 32 bit) with a final avalanche, so shard routing and digests are
// the same on every machine and every run. Not cryptographic: digests guard against lost
// updates, not against an adversary (the wire is authenticated by internode).

export const FNV_OFFSET = 0x811c9dc5;
/** A second offset basis, for the independent second lane of digests. */
export const FNV_OFFSET_ALT = 0x2f6b_a5c3;
const FNV_PRIME = 0x01000193;

/** Feed a string's UTF-16 code units (low byte, then high byte when non-zero). */
export function fnvString(text: string, hash: number): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h = Math.imul(h ^ (c & 0xff), FNV_PRIME);
    if (c > 0xff) h = Math.imul(h ^ (c >>> 8), FNV_PRIME);
  }
  // A terminator, so ("ab","c") and ("a","bc") hash differently when chained.
  return Math.imul(h ^ 0xff, FNV_PRIME) >>> 0;
}

/** Feed a non-negative safe integer as 8 little-endian bytes. */
export function fnvNumber(value: number, hash: number): number {
  let h = hash;
  let low = value >>> 0;
  let high = Math.floor(value / 4294967296) >>> 0;
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (low & 0xff), FNV_PRIME);
    low >>>= 8;
  }
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (high & 0xff), FNV_PRIME);
    high >>>= 8;
  }
  return h >>> 0;
}

/** murmur3's finalizer: spreads FNV's weak low bits before taking a modulus. */
export function mix32(hash: number): number {
  let h = hash >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Stable 32-bit hash of a string. */
export function hashString(text: string): number {
  return mix32(fnvString(text, FNV_OFFSET));
}

/**
 * A flat copy of a string. Strings decoded by msgpackr's native extractor are slices of one
 * string per message; keeping a slice keeps the whole message text alive. Keys and names that
 * live in long-lived state are flattened once, when first stored.
 */
export function flatString(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
