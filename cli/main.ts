#!/usr/bin/env node
// The `troupe` command.
import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';

const USAGE = `usage: troupe <command>

commands:
  demo        run a local demo: spawn, names, call, monitors, links, a supervisor restart
  help        show this text
`;

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const [command] = positionals;
  switch (command) {
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
