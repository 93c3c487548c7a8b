// How a Cluster runs its admin server: the metrics SDK is made before any subsystem (so each one
// creates its instruments on it), the server once the Cluster exists, as its last part.
import type { Cluster } from '../system/index.js';
import type { AdminMetrics } from './metrics.js';
import type { ResolvedAdminOptions } from './options.js';
import { AdminServer } from './server.js';
import { packageVersion } from './version.js';

/** The SDK for a node about to start with an admin server (loaded then: a node without one never loads it). */
export async function adminMetricsFor(node: string): Promise<AdminMetrics> {
  const { AdminMetrics } = await import('./metrics.js');
  return new AdminMetrics({ node, version: packageVersion() });
}

/** Starts the admin server of a started Cluster (which attaches it as a part). */
export function startClusterAdmin(
  cluster: Cluster,
  options: ResolvedAdminOptions,
  metrics: AdminMetrics | null,
): Promise<AdminServer> {
  const raft = cluster.options.raft;
  return AdminServer.start({
    cluster,
    listen: options.listen,
    token: options.token,
    metrics,
    expect: options.expect ?? raft?.voters ?? raft?.expect ?? 1,
    logger: cluster.logger.child({ subsystem: 'admin' }),
  });
}
