// Histogram bucket bounds of /metrics, one set per unit the instruments are recorded in.

/** Bucket bounds per unit: latencies in seconds (100 µs .. 10 s), in ms (the Raft persist), sizes in bytes. */
export const SECONDS_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
export const MILLISECONDS_BUCKETS: readonly number[] = SECONDS_BUCKETS.map((s) => s * 1000);
export const BYTES_BUCKETS: readonly number[] = [
  64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216,
];
