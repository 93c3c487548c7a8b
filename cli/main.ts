#!/usr/bin/env node
// The `troupe` command.
import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';
import { NODE_USAGE, UsageError, parseNodeArgs, runNode } from './node.js';

const USAGE = `usage: troupe <command>

commands:
  demo        run a local demo: spawn, names, call, monitors, links, a supervisor restart
  node        run one node of a cluster (see troupe node --help)
  help        show this text
`;

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const [command] = positionals;
  switch (command) {
    case 'node': {
      const rest = argv.slice(argv.indexOf('node') + 1);
      if (rest.includes('--help')) {
        process.stdout.write(NODE_USAGE);
        return 0;
      }
      try {
        await runNode(parseNodeArgs(rest, process.env));
      } catch (err) {
        if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
          process.stderr.write(`troupe node: ${(err as Error).message}\n${NODE_USAGE}`);
          return 2;
        }
        throw err;
      }
      return 0;
    }
    case 'demo':
      await runDemo();
      return 0;
    case undefined:
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`troupe: unknown command ${command}\n${USAGE}`);
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
