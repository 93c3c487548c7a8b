// `troupe node`: runs one node of a cluster until SIGTERM or SIGINT, then stops gracefully.
// The cluster secret comes from a file (--cookie-file) or the TROUPE_COOKIE environment
// variable — never from the command line, where other users of the machine could read it.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Node } from '../runtime/index.js';
import { Internode, type TlsOptions } from '../internode/index.js';
import { ProcessGroups } from '../pg/index.js';
import { EventualRegistry } from '../registry/index.js';
import { startAdmin } from './node-admin.js';

export const NODE_USAGE = `usage: troupe node --name NAME --listen HOST:PORT [--join HOST:PORT ...]
                   [--cookie-file FILE] [--cluster NAME] [--advertise HOST:PORT]
                   [--tls-cert FILE --tls-key FILE [--tls-ca FILE]] [--log-level LEVEL]
                   [--name-grace-ms MS]

  The cluster secret is read from --cookie-file, or from the TROUPE_COOKIE environment variable.
  The node prints "ready NAME ADDRESS" on stdout once it listens, and stops on SIGTERM/SIGINT.
`;

export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

export interface NodeConfig {
  readonly name: string;
  readonly listen: string;
  readonly seeds: string[];
  readonly cluster: string;
  readonly secret: Buffer;
  readonly advertise?: string;
  readonly tls?: TlsOptions;
  readonly logLevel: string;
  /** How long the names of a departed node survive (a blip must not unregister everything). */
  readonly nameGraceMs?: number;
}

export function parseNodeArgs(argv: string[], env: NodeJS.ProcessEnv): NodeConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      listen: { type: 'string' },
      join: { type: 'string', multiple: true },
      'cookie-file': { type: 'string' },
      cookie: { type: 'string' },
      cluster: { type: 'string', default: 'troupe' },
      advertise: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'name-grace-ms': { type: 'string' },
    },
    strict: true,
  });
  if (values.cookie !== undefined)
    throw new UsageError(
      '--cookie is refused: a secret on the command line is visible to every user; use --cookie-file or TROUPE_COOKIE',
    );
  if (values.name === undefined) throw new UsageError('--name is required');
  if (values.listen === undefined) throw new UsageError('--listen is required');
  let secret: Buffer;
  if (values['cookie-file'] !== undefined) secret = readFileSync(values['cookie-file']);
  else if (env.TROUPE_COOKIE !== undefined && env.TROUPE_COOKIE !== '') secret = Buffer.from(env.TROUPE_COOKIE, 'utf8');
  else throw new UsageError('no cluster secret: pass --cookie-file FILE or set TROUPE_COOKIE');
  const trimmed = Buffer.from(secret.toString('utf8').trim(), 'utf8');
  let tls: TlsOptions | undefined;
  if (values['tls-cert'] !== undefined || values['tls-key'] !== undefined) {
    if (values['tls-cert'] === undefined || values['tls-key'] === undefined)
      throw new UsageError('--tls-cert and --tls-key go together');
    tls = {
      cert: readFileSync(values['tls-cert']),
      key: readFileSync(values['tls-key']),
      ...(values['tls-ca'] !== undefined ? { ca: readFileSync(values['tls-ca']) } : {}),
    };
  }
  const grace = values['name-grace-ms'] === undefined ? undefined : Number(values['name-grace-ms']);
  if (grace !== undefined && (!Number.isSafeInteger(grace) || grace < 0))
    throw new UsageError('--name-grace-ms must be a whole number of milliseconds');
  return {
    name: values.name,
    listen: values.listen,
    seeds: values.join ?? [],
    cluster: values.cluster,
    secret: trimmed,
    ...(values.advertise !== undefined ? { advertise: values.advertise } : {}),
    ...(tls !== undefined ? { tls } : {}),
    logLevel: values['log-level'],
    ...(grace !== undefined ? { nameGraceMs: grace } : {}),
  };
}

export async function runNode(config: NodeConfig): Promise<void> {
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const node = await Node.start({ name: config.name, logger });
  const net = await Internode.start({
    node,
    cluster: config.cluster,
    secret: config.secret,
    listen: config.listen,
    seeds: config.seeds,
    logger,
    ...(config.advertise !== undefined ? { advertise: config.advertise } : {}),
    ...(config.tls !== undefined ? { tls: config.tls } : {}),
  });
  const pg = ProcessGroups.start({ node, internode: net, logger });
  const names = EventualRegistry.start({
    node,
    internode: net,
    logger,
    ...(config.nameGraceMs !== undefined ? { nodeDownGraceMs: config.nameGraceMs } : {}),
  });
  await startAdmin(node, net, { pg, names });
  net.subscribe((e) =>
    process.stdout.write(`${e.type} ${e.node} ${e.incarnation}${e.type === 'down' ? ` ${e.reason}` : ''}\n`),
  );
  process.stdout.write(`ready ${node.name} ${net.address} ${node.incarnation}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await names.stop();
  await pg.stop();
  await net.stop();
  await node.stop();
  process.stdout.write(`stopped ${node.name}\n`);
}
