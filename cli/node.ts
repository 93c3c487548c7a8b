// `troupe node`: runs one node of a cluster (runtime, internode, process groups, the eventual
// registry and an admin process) until SIGTERM or SIGINT, then stops gracefully.
import pino from 'pino';
import { Cluster } from '../system/index.js';
import { startAdmin } from './node-admin.js';
import { benchAdmin } from './bench-admin.js';
import type { NodeConfig } from './config.js';

export { UsageError, parseNodeArgs, nodeUsage, type NodeConfig } from './config.js';

/** Starts the node; resolves once it has stopped after a signal. */
export async function runNode(config: NodeConfig): Promise<void> {
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const cluster = await Cluster.start({
    name: config.name,
    cluster: config.cluster,
    secret: config.secret,
    listen: config.listen,
    seeds: config.seeds,
    logger,
    ...(config.advertise !== undefined ? { advertise: config.advertise } : {}),
    ...(config.dialFrom !== undefined ? { dialFrom: config.dialFrom } : {}),
    ...(config.tls !== undefined ? { tls: config.tls } : {}),
    ...(config.nameGraceMs !== undefined ? { eventual: { nodeDownGraceMs: config.nameGraceMs } } : {}),
    ...(config.raft !== undefined ? { raft: config.raft } : {}),
    ...(config.admin !== undefined
      ? {
          admin: {
            listen: config.admin.listen,
            ...(config.admin.token !== undefined ? { token: config.admin.token } : {}),
          },
        }
      : {}),
  });
  const { node, internode, pg, eventual: names } = cluster;
  await startAdmin(node, internode, {
    pg,
    names,
    ...(config.raft !== undefined ? { raft: cluster.raft } : {}),
    ...(config.benchAdmin ? { extra: benchAdmin({ node, pg, names }) } : {}),
  });
  cluster.subscribe((e) =>
    process.stdout.write(`${e.type} ${e.node} ${e.incarnation}${e.type === 'down' ? ` ${e.reason}` : ''}\n`),
  );
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  process.stdout.write(`ready ${node.name} ${internode.address} ${node.incarnation}\n`);
  if (config.admin !== undefined) process.stdout.write(`admin ${cluster.admin.url}\n`);
  if (config.raft !== undefined)
    cluster.founders().then(
      (voters) => process.stdout.write(`raft founders ${voters.join(',')}\n`),
      () => {}, // logged by the cluster; addGroup searches again
    );
  await signalled;
  // A second signal while stopping exits at once.
  const now = (): never => process.exit(1);
  process.once('SIGTERM', now);
  process.once('SIGINT', now);
  await cluster.stop();
  process.stdout.write(`stopped ${node.name}\n`);
}
