// The checker's command: node --import tsx sim/check/main.ts [options] <history-file>
// Prints the verdict as one JSON object. Exit status: 0 linearizable, 1 violation, 2 unknown,
// 3 malformed history, 64 bad usage.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkHistory, type CheckOptions } from './index.js';

const USAGE = `usage: node --import tsx sim/check/main.ts [--idempotent-register] [--time-limit-ms N]
       [--max-steps-per-key N] <history-file>`;

function main(argv: readonly string[]): number {
  let file: string | undefined;
  const opts: { -readonly [K in keyof CheckOptions]: CheckOptions[K] } = { now: () => performance.now() };
  opts.timeLimitMs = 60_000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const num = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${arg} needs a positive integer`);
      return n;
    };
    if (arg === '--idempotent-register') opts.sameOwner = 'idempotent';
    else if (arg === '--time-limit-ms') opts.timeLimitMs = num();
    else if (arg === '--max-steps-per-key') opts.maxStepsPerKey = num();
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else if (file === undefined && !arg.startsWith('-')) file = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (file === undefined) throw new Error('no history file');
  const verdict = checkHistory(readFileSync(file, 'utf8'), opts);
  process.stdout.write(`${JSON.stringify(verdict)}\n`);
  return { linearizable: 0, violation: 1, unknown: 2, malformed: 3 }[verdict.verdict];
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exitCode = 64;
}
