// Public face of admin/: the HTTP surface of a node (health, /metrics, the /v1 JSON views, KV
// over HTTP, the dashboard), the `admin` option of Cluster.start, and its limits. See docs/admin.md.
export { AdminServer, type AdminServerOptions, type AdminServerCounters } from './server.js';
export type { AdminMetrics, AdminInstruments } from './metrics.js';
export { SECONDS_BUCKETS, MILLISECONDS_BUCKETS, BYTES_BUCKETS } from './buckets.js';
export { resolveAdminOptions, type AdminOptions, type ResolvedAdminOptions } from './options.js';
export { adminMetricsFor, startClusterAdmin } from './start.js';
export { AdminHttpError } from './errors.js';
export type { NameTierView, RecentEvent } from './views.js';
export type { ExpectedMembers, HealthAnswer } from './health.js';
export * as adminLimits from './limits.js';
