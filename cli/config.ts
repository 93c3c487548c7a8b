// The settings of `troupe node`, read from flags, environment variables and a JSON config file
// with one precedence: flags > env > file > defaults. Every bad value is a UsageError naming where
// it came from (`--listen`, `TROUPE_LISTEN`, or `listen in troupe.json`), printed as one line.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { validateNodeName } from '../runtime/index.js';

/** A setup mistake: printed as `troupe <command>: <message>`, exit code 2, no stack trace. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

type Kind = 'string' | 'list' | 'int' | 'flag';

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  /** The key in a config file (camelCase of the flag). */
  readonly key: string;
  readonly help: string;
  /** Shown in usage only when set (internal settings for benchmarks and tests are hidden). */
  readonly hidden?: boolean;
}

const setting = (flag: string, kind: Kind, help: string, hidden = false): Setting => ({
  flag,
  env: `TROUPE_${flag.toUpperCase().replace(/-/g, '_')}`,
  kind,
  key: flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
  help,
  hidden,
});

export const NODE_SETTINGS: readonly Setting[] = [
  setting('name', 'string', 'node name, unique in the cluster (required)'),
  setting('listen', 'string', 'HOST:PORT to accept peers on (port 0 picks one)'),
  setting('join', 'list', 'HOST:PORT of a node to join through (repeatable; env: comma-separated)'),
  setting('cluster', 'string', "cluster name (default 'troupe')"),
  setting('cookie-file', 'string', 'file holding the cluster secret (or set TROUPE_COOKIE)'),
  setting('advertise', 'string', 'HOST:PORT peers should dial (default: the bound listen address)'),
  setting('dial-from', 'string', 'local IP address to dial peers from (default: the system chooses)'),
  setting('tls-cert', 'string', 'TLS certificate (PEM); with --tls-key'),
  setting('tls-key', 'string', 'TLS private key (PEM)'),
  setting('tls-ca', 'string', 'CA to verify peers against (PEM)'),
  setting('log-level', 'string', 'fatal, error, warn, info, debug, trace or silent (default info)'),
  setting('name-grace-ms', 'int', 'how long the eventual names of a departed node survive'),
  setting('data-dir', 'string', 'run the Raft host with its log in this directory (restart resumes from it)'),
  setting('expect', 'int', 'with --data-dir: found a new cluster with the first N nodes to meet (odd)'),
  setting('voters', 'list', 'with --data-dir: found a new cluster with these voters (instead of --expect)'),
  setting('admin', 'string', 'HOST:PORT for the admin HTTP server (health, /metrics, views, KV, the dashboard)'),
  setting('admin-token-file', 'string', 'with --admin: file holding the bearer token admin writes need (16+ bytes)'),
  setting('bench-admin', 'flag', 'enable benchmark/test admin operations (never in production)', true),
];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const MAX_PORT = 65_535;
const MIN_SECRET_BYTES = 16;

export interface NodeConfig {
  readonly name: string;
  readonly listen: string;
  readonly seeds: string[];
  readonly cluster: string;
  readonly secret: Buffer;
  readonly advertise?: string;
  readonly dialFrom?: string;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca?: Buffer };
  readonly logLevel: LogLevel;
  /** How long the names of a departed node survive (a blip must not unregister everything). */
  readonly nameGraceMs?: number;
  /** Benchmark and test operations in the admin process (spawning many processes on request). */
  readonly benchAdmin: boolean;
  /** The admin HTTP server: where it listens, and the token its writes need (none: writes answer 401). */
  readonly admin?: { readonly listen: string; readonly token?: Buffer };
  /** The Raft host: its data directory and how a new cluster is founded. */
  readonly raft?: { readonly dataDir: string; readonly expect?: number; readonly voters?: readonly string[] };
}

type Raw = Partial<Record<string, string | string[] | boolean>>;

/** `host:port` with a port in 0..65535 (0 only where `allowZero`); throws naming `where`. */
export function checkAddress(value: string, where: string, allowZero: boolean): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > MAX_PORT || (!allowZero && port === 0))
    throw new UsageError(
      `${where}: expected HOST:PORT with a port in ${allowZero ? 0 : 1}..${MAX_PORT}, got ${JSON.stringify(value)}`,
    );
  return value;
}

function readSettingsFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${path}: not JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UsageError(`--config ${path}: expected a JSON object`);
  const raw: Raw = {};
  for (const [key, value] of Object.entries(parsed)) {
    const s = NODE_SETTINGS.find((x) => x.key === key);
    if (s === undefined) throw new UsageError(`${key} in ${path}: unknown setting`);
    const ok =
      s.kind === 'list'
        ? Array.isArray(value) && value.every((v) => typeof v === 'string')
        : s.kind === 'flag'
          ? typeof value === 'boolean'
          : s.kind === 'int'
            ? Number.isSafeInteger(value)
            : typeof value === 'string';
    if (!ok) throw new UsageError(`${key} in ${path}: expected ${s.kind === 'list' ? 'an array of strings' : s.kind}`);
    raw[s.flag] = s.kind === 'int' ? String(value) : (value as string | string[] | boolean);
  }
  return raw;
}

/** Resolves every setting by precedence; returns each value with where it came from. */
function gather(argv: readonly string[], env: NodeJS.ProcessEnv): { values: Raw; from: Record<string, string> } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    config: { type: 'string' },
    cookie: { type: 'string' },
  };
  for (const s of NODE_SETTINGS)
    options[s.flag] = {
      type: s.kind === 'flag' ? 'boolean' : 'string',
      ...(s.kind === 'list' ? { multiple: true } : {}),
    };
  let flags: Raw;
  try {
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Raw;
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  if (flags.cookie !== undefined)
    throw new UsageError(
      '--cookie is refused: a secret on the command line is visible to every user; use --cookie-file or TROUPE_COOKIE',
    );
  const configPath = (flags.config as string | undefined) ?? env.TROUPE_CONFIG;
  const file = configPath !== undefined && configPath !== '' ? readSettingsFile(configPath) : {};
  const values: Raw = {};
  const from: Record<string, string> = {};
  for (const s of NODE_SETTINGS) {
    const envValue = env[s.env];
    if (flags[s.flag] !== undefined) {
      values[s.flag] = flags[s.flag];
      from[s.flag] = `--${s.flag}`;
    } else if (envValue !== undefined && envValue !== '') {
      values[s.flag] =
        s.kind === 'list'
          ? envValue
              .split(',')
              .map((v) => v.trim())
              .filter((v) => v !== '')
          : s.kind === 'flag'
            ? envValue === '1' || envValue === 'true'
            : envValue;
      from[s.flag] = s.env;
    } else if (file[s.flag] !== undefined) {
      values[s.flag] = file[s.flag];
      from[s.flag] = `${s.key} in ${configPath!}`;
    }
  }
  return { values, from };
}

function readFileOrFail(path: string, where: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`${where} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function parseNodeArgs(argv: readonly string[], env: NodeJS.ProcessEnv): NodeConfig {
  const { values, from } = gather(argv, env);
  const str = (flag: string): string | undefined => values[flag] as string | undefined;
  const name = str('name');
  if (name === undefined) throw new UsageError('--name is required (or TROUPE_NAME)');
  try {
    validateNodeName(name);
  } catch (e) {
    throw new UsageError(`${from.name}: ${(e as Error).message}`);
  }
  const listen = checkAddress(str('listen') ?? '127.0.0.1:0', from.listen ?? '--listen', true);
  const seeds = ((values.join as string[] | undefined) ?? []).map((s) => checkAddress(s, from.join!, false));
  const advertise = str('advertise');
  if (advertise !== undefined) checkAddress(advertise, from.advertise!, false);
  const dialFrom = str('dial-from');
  if (dialFrom !== undefined && isIP(dialFrom) === 0)
    throw new UsageError(`${from['dial-from']}: expected an IP address, got ${JSON.stringify(dialFrom)}`);
  const logLevel = str('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new UsageError(
      `${from['log-level']}: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`,
    );
  let secret: Buffer;
  let secretFrom: string;
  if (str('cookie-file') !== undefined) {
    secret = readFileOrFail(str('cookie-file')!, from['cookie-file']!);
    secretFrom = `${from['cookie-file']!} ${str('cookie-file')!}`;
  } else if (env.TROUPE_COOKIE !== undefined && env.TROUPE_COOKIE !== '') {
    secret = Buffer.from(env.TROUPE_COOKIE, 'utf8');
    secretFrom = 'TROUPE_COOKIE';
  } else throw new UsageError('no cluster secret: pass --cookie-file FILE or set TROUPE_COOKIE');
  const trimmed = Buffer.from(secret.toString('utf8').trim(), 'utf8');
  if (trimmed.length < MIN_SECRET_BYTES)
    throw new UsageError(
      `${secretFrom}: the cluster secret must be at least ${MIN_SECRET_BYTES} bytes (got ${trimmed.length})`,
    );
  let tls: NodeConfig['tls'];
  if (str('tls-cert') !== undefined || str('tls-key') !== undefined) {
    if (str('tls-cert') === undefined || str('tls-key') === undefined)
      throw new UsageError('--tls-cert and --tls-key go together');
    const ca = str('tls-ca');
    tls = {
      cert: readFileOrFail(str('tls-cert')!, from['tls-cert']!),
      key: readFileOrFail(str('tls-key')!, from['tls-key']!),
      ...(ca !== undefined ? { ca: readFileOrFail(ca, from['tls-ca']!) } : {}),
    };
  }
  const graceText = str('name-grace-ms');
  const grace = graceText === undefined ? undefined : Number(graceText);
  if (grace !== undefined && (!Number.isSafeInteger(grace) || grace < 0))
    throw new UsageError(
      `${from['name-grace-ms']}: expected a whole number of milliseconds, got ${JSON.stringify(graceText)}`,
    );
  const dataDir = str('data-dir');
  const expectText = str('expect');
  const voters = values.voters as string[] | undefined;
  let raft: NodeConfig['raft'];
  if (dataDir === undefined) {
    if (expectText !== undefined || voters !== undefined)
      throw new UsageError(`${from.expect ?? from.voters}: needs --data-dir (where the Raft log lives)`);
  } else {
    if ((expectText === undefined) === (voters === undefined))
      throw new UsageError(`${from['data-dir']}: give --expect N or --voters A,B,C (how a new cluster is founded)`);
    if (expectText !== undefined) {
      const n = Number(expectText);
      if (!Number.isSafeInteger(n) || n < 1 || n % 2 === 0)
        throw new UsageError(
          `${from.expect}: expected an odd number of founding voters, got ${JSON.stringify(expectText)}`,
        );
      raft = { dataDir, expect: n };
    } else {
      for (const v of voters!)
        try {
          validateNodeName(v);
        } catch (e) {
          throw new UsageError(`${from.voters}: ${(e as Error).message}`);
        }
      raft = { dataDir, voters: voters! };
    }
  }
  const admin = adminSetting(str('admin'), str('admin-token-file'), from);
  return {
    name,
    listen,
    seeds,
    cluster: str('cluster') ?? 'troupe',
    secret: trimmed,
    ...(advertise !== undefined ? { advertise } : {}),
    ...(dialFrom !== undefined ? { dialFrom } : {}),
    ...(tls !== undefined ? { tls } : {}),
    logLevel: logLevel as LogLevel,
    ...(grace !== undefined ? { nameGraceMs: grace } : {}),
    benchAdmin: values['bench-admin'] === true,
    ...(raft !== undefined ? { raft } : {}),
    ...(admin !== undefined ? { admin } : {}),
  };
}

/** `--admin HOST:PORT` and its token file (16 bytes or more once trimmed, no whitespace inside). */
function adminSetting(
  listen: string | undefined,
  tokenFile: string | undefined,
  from: Record<string, string>,
): NodeConfig['admin'] {
  if (listen === undefined) {
    if (tokenFile !== undefined) throw new UsageError(`${from['admin-token-file']}: needs --admin HOST:PORT`);
    return undefined;
  }
  checkAddress(listen, from.admin!, true);
  if (tokenFile === undefined) return { listen };
  const token = Buffer.from(readFileOrFail(tokenFile, from['admin-token-file']!).toString('utf8').trim(), 'utf8');
  if (token.length < MIN_SECRET_BYTES || /\s/.test(token.toString('utf8')))
    throw new UsageError(
      `${from['admin-token-file']} ${tokenFile}: the admin token must be at least ${MIN_SECRET_BYTES} bytes ` +
        `without whitespace (got ${token.length})`,
    );
  return { listen, token };
}

export function nodeUsage(): string {
  const lines = NODE_SETTINGS.filter((s) => !s.hidden).map((s) => {
    const arg = s.kind === 'flag' ? '' : s.kind === 'int' ? ' N' : ' VALUE';
    return `  --${s.flag}${arg}`.padEnd(28) + `${s.help} [${s.env}]`;
  });
  return `usage: troupe node --name NAME [options]

Runs one node of a cluster until SIGTERM or SIGINT, then stops gracefully. It prints
"ready NAME ADDRESS INCARNATION" once it listens, then "up"/"down" lines for its peers.

options (each also read from the environment variable in brackets; flags win over the
environment, which wins over --config FILE, a JSON object of the same settings in camelCase):
${lines.join('\n')}
  --config FILE             a JSON file of settings [TROUPE_CONFIG]
  -h, --help                show this text

The cluster secret is read from --cookie-file, or from the TROUPE_COOKIE environment variable
(at least 16 bytes; surrounding whitespace is trimmed). A secret on the command line is refused.
`;
}
