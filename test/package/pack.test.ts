// The package as a user gets it: `npm pack` from the repo, installed into a fresh project, then
// imported from ESM and from CJS (require of an ES module, Node >= 20.19), type-checked with
// TypeScript strict, and its `troupe` command run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readmeFirstProgram } from '../examples/readme.js';

const ROOT = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'troupe-pack-'));
const project = join(work, 'app');
let files: string[] = [];

const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

beforeAll(() => {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  files = packed[0]!.files.map((f) => f.path);
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const typescript = (
    JSON.parse(run('node', ['-p', 'JSON.stringify(require("./package.json").devDependencies)'], ROOT)) as Record<
      string,
      string
    >
  ).typescript!;
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      join(work, packed[0]!.filename),
      `typescript@${typescript}`,
      '@types/node@20',
    ],
    project,
  );
}, 300_000);

describe('the packed package', () => {
  it('ships the build, the docs and the license; no simulation code, no source maps, no tests', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/cli/main.js');
    expect(files.filter((f) => f.startsWith('dist/sim/') || f.startsWith('test/') || f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('imports from ESM and runs a node', () => {
    writeFileSync(
      join(project, 'esm.mjs'),
      `import { Cluster } from 'troupe';
       const c = await Cluster.start({ name: 'esm', logger: false });
       const pid = c.node.spawn(async (ctx) => { ctx.send(ctx.self, 'hi'); console.log(await ctx.receive()); });
       await c.node.exited(pid);
       await c.stop();`,
    );
    expect(run('node', ['esm.mjs'], project).trim()).toBe('hi');
  });

  it('requires from CJS', () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const { Node, Pid, Cluster } = require('troupe');
       const { Internode } = require('troupe/internode');
       console.log(typeof Node.start, typeof Pid.parse, typeof Cluster.start, typeof Internode.start);`,
    );
    expect(run('node', ['cjs.cjs'], project).trim()).toBe('function function function function');
  });

  it('type-checks a program under TypeScript strict', () => {
    writeFileSync(
      join(project, 'main.ts'),
      `import { Cluster, isTroupeError, type Pid, type ClusterOptions } from 'troupe';
       import type { ProcessGroups } from 'troupe/pg';
       const options: ClusterOptions = { name: 'typed', logger: false };
       export async function main(): Promise<Pid> {
         const c = await Cluster.start(options);
         const pg: ProcessGroups = c.pg;
         const pid: Pid = c.node.spawn(async (ctx) => {
           await ctx.receive({ timeout: 10 }).catch((e: unknown) => isTroupeError(e));
         });
         pg.join('g', pid);
         await c.stop();
         return pid;
       }`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          noEmit: true,
          types: ['node'],
          skipLibCheck: false,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
        },
        files: ['main.ts'],
      }),
    );
    expect(() => run(join(project, 'node_modules/.bin/tsc'), ['-p', '.'], project)).not.toThrow();
  });

  it("runs the README's first program, type-checked under strict, in a fresh project", () => {
    writeFileSync(join(project, 'readme.ts'), readmeFirstProgram());
    writeFileSync(
      join(project, 'tsconfig.readme.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          outDir: 'out',
          types: ['node'],
        },
        files: ['readme.ts'],
      }),
    );
    run(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.readme.json'], project);
    expect(run('node', ['out/readme.js'], project)).toMatch(/^hello, world, from node b$/m);
  });

  it('installs the troupe command', () => {
    expect(run(join(project, 'node_modules/.bin/troupe'), ['--version'], project).trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(run(join(project, 'node_modules/.bin/troupe'), ['--help'], project)).toMatch(/^usage: troupe/);
  });
});
