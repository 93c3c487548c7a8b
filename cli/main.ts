#!/usr/bin/env node
// The `troupe` command. Setup mistakes print one line `troupe <command>: <what is wrong>` and
// exit 2, never a stack trace; --help and -h exit 0 everywhere; --version prints the version.
import { readFileSync } from 'node:fs';
import { runDemo } from './demo.js';
import { UsageError, nodeUsage, parseNodeArgs, runNode } from './node.js';
import { AdminCallError } from './admin-client.js';
import { STATUS_USAGE, runStatus } from './status.js';
import { KV_USAGE, runKv } from './kv.js';

const USAGE = `usage: troupe <command> [options]

commands:
  node        run one node of a cluster (troupe node --help)
  demo        a local demo: processes, then a 3-node cluster on loopback
  status      members, Raft groups and counts from a node's admin server (troupe status --help)
  kv          get, put, del, watch keys through a node's admin server (troupe kv --help)
  help        show this text

  --version   print the version
`;

/** The package's version: its package.json is one folder up from cli/ in the source, two from dist/cli/. */
function version(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'troupe') return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');

/** Library errors that mean the setup is wrong (a bad option, a data directory not this node's). */
const SETUP_CODES = new Set(['ERR_BAD_CONFIG', 'ERR_BAD_NAME', 'ERR_RAFT_STORE_FOREIGN', 'ERR_RAFT_STORE_CORRUPT']);

/** A setup error that is the user's to fix: a UsageError, or a typed config error from the library. */
function setupMessage(err: unknown): string | null {
  if (err instanceof UsageError) return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SETUP_CODES.has(code)) return (err as Error).message;
  return null;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'node': {
      if (wantsHelp(rest)) {
        process.stdout.write(nodeUsage());
        return 0;
      }
      try {
        await runNode(parseNodeArgs(rest, process.env));
        return 0;
      } catch (err) {
        const message = setupMessage(err);
        if (message === null) throw err;
        process.stderr.write(`troupe node: ${message}\n`);
        return 2;
      }
    }
    case 'status':
    case 'kv': {
      if (wantsHelp(rest)) {
        process.stdout.write(command === 'kv' ? KV_USAGE : STATUS_USAGE);
        return 0;
      }
      // Ctrl-C ends a watch cleanly (exit 0).
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      try {
        if (command === 'status') process.stdout.write(await runStatus(rest, process.env));
        else await runKv(rest, process.env, (text) => process.stdout.write(text), stop.signal);
        return 0;
      } catch (err) {
        if (err instanceof UsageError) {
          process.stderr.write(`troupe ${command}: ${err.message}\n`);
          return 2;
        }
        if (err instanceof AdminCallError) {
          process.stderr.write(`troupe ${command}: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
    }
    case 'demo':
      if (wantsHelp(rest)) {
        process.stdout.write('usage: troupe demo\n\nA local tour: processes on one node, then a 3-node cluster.\n');
        return 0;
      }
      await runDemo();
      return 0;
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    default:
      process.stderr.write(`troupe: unknown command ${JSON.stringify(command)} (troupe --help lists them)\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
