// Runs every benchmark module in this folder (files named `<subsystem>.bench.ts`) and prints
// one JSON document. Each module's default export is `(opts) => Promise<object>`; results should
// carry a baseline measured in the same run so that figures can be quoted as ratios.
//
//   npm run bench                 all modules
//   npm run bench -- raft runtime only the named modules
//   BENCH_QUICK=1 npm run bench   shorter runs (smoke check)
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchOptions {
  /** Shorter runs, for a smoke check. */
  readonly quick: boolean;
}

export type BenchModule = (opts: BenchOptions) => Promise<Record<string, unknown>>;

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

const opts: BenchOptions = { quick: process.env.BENCH_QUICK === '1' };
const report: Record<string, unknown> = {
  machine: { node: process.version, platform: process.platform, arch: process.arch },
  startedAt: new Date().toISOString(),
};
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: BenchModule };
  report[file.replace(/\.bench\.ts$/, '')] = await mod.default(opts);
}
console.log(JSON.stringify(report, null, 2));
