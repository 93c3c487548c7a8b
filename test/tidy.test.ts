// House rules, checked by reading the source as text (TigerBeetle's tidy test is the model).
// A rule broken on purpose needs an entry in KNOWN below with the reason; the list only shrinks.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

/** Folders of the product (what users run); sim/, test/, bench/ and examples/ are not. */
const PRODUCT = ['runtime', 'internode', 'raft', 'pg', 'crdt', 'registry', 'kv', 'admin', 'system', 'cli'];
const NOT_PRODUCT = ['sim', 'test', 'bench', 'examples', 'chaos'];

/** The one named pure entry besides index files: what pure cores may import from the runtime. */
const PURE_ENTRIES = new Set(['runtime/base.ts']);
/** Pure folders whose index a pure core may import (they are pure all the way down). */
const PURE_INDEXES = new Set(['crdt/index.ts']);

/**
 * Pure cores: deterministic state machines. They take time and randomness as inputs, so they
 * may not import I/O, logging or telemetry, nor read a clock or a random source.
 */
const PURE_CORES: readonly (string | RegExp)[] = [
  /^raft\/(?!host\/|store\/)[^/]+\.ts$/,
  /^crdt\/[^/]+\.ts$/,
  'pg/scope.ts',
  'pg/group.ts',
  'pg/monitors.ts',
  'pg/messages.ts',
  'registry/eventual/core.ts',
  'registry/eventual/claim-order.ts',
  'registry/eventual/outbox.ts',
  'internode/failure-detector.ts',
  'internode/readiness.ts',
  'internode/membership.ts',
  'raft/host/reconciler.ts',
  /^kv\/state-machine[^/]*\.ts$/,
  /^registry\/consistent\/state-machine[^/]*\.ts$/,
];
const IMPURE_IMPORT = /^(pino|@opentelemetry\/.*|node:.*|ws|lmdb|p-queue)$/;
const IMPURE_CALL = /\b(Date\.now|performance\.now|setTimeout|setInterval|setImmediate|Math\.random)\b/;

const MAX_COLUMNS = 120;

/** Known breaks of a rule, each with the issue that removes it. Entries only ever go. */
const KNOWN: Record<string, readonly string[]> = {
  'duplicate-export': [],
};

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(relative(ROOT, path));
  }
  return out;
}

const ALL = walk(ROOT).filter((f) => !f.startsWith('coverage/'));
const topFolder = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '.');
const isProduct = (file: string): boolean => file === 'index.ts' || PRODUCT.includes(topFolder(file));
const isPureCore = (file: string): boolean =>
  PURE_CORES.some((p) => (typeof p === 'string' ? p === file : p.test(file)));

function importsOf(file: string): string[] {
  const text = readFileSync(resolve(ROOT, file), 'utf8');
  const specs: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) specs.push((m[1] ?? m[2])!);
  return specs;
}

/** The repo-relative .ts path an import resolves to, or null for a package. */
function resolveImport(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts');
}

describe('tidy', () => {
  it('product code never imports sim/, test/, bench/ or examples/', () => {
    const bad: string[] = [];
    for (const file of ALL.filter(isProduct))
      for (const spec of importsOf(file)) {
        const target = resolveImport(file, spec);
        if (target !== null && NOT_PRODUCT.includes(topFolder(target))) bad.push(`${file} imports ${spec}`);
      }
    expect(bad).toEqual([]);
  });

  it('a product folder reaches another only through an index.ts or runtime/base.ts', () => {
    const bad: string[] = [];
    for (const file of ALL.filter(isProduct))
      for (const spec of importsOf(file)) {
        const target = resolveImport(file, spec);
        if (target === null || topFolder(target) === topFolder(file)) continue;
        if (target.endsWith('/index.ts') || target === 'index.ts' || PURE_ENTRIES.has(target)) continue;
        bad.push(`${file} imports ${spec}`);
      }
    expect(bad).toEqual([]);
  });

  it('pure cores import no I/O, logging or telemetry, and read no clock or random source', () => {
    const bad: string[] = [];
    for (const file of ALL.filter(isPureCore)) {
      for (const spec of importsOf(file)) if (IMPURE_IMPORT.test(spec)) bad.push(`${file} imports ${spec}`);
      const text = readFileSync(resolve(ROOT, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      const call = IMPURE_CALL.exec(text);
      if (call !== null) bad.push(`${file} uses ${call[1]}`);
      const target = (spec: string) => resolveImport(file, spec);
      for (const spec of importsOf(file)) {
        const t = target(spec);
        if (t !== null && topFolder(t) !== topFolder(file) && !PURE_ENTRIES.has(t) && !PURE_INDEXES.has(t))
          bad.push(`${file} imports ${spec} (a pure core imports only its folder, runtime/base.ts and pure indexes)`);
      }
    }
    expect(bad).toEqual([]);
  });

  it(`no line passes ${MAX_COLUMNS} columns`, () => {
    const bad: string[] = [];
    for (const file of ALL) {
      if (file.startsWith('test/raft/testdata/')) continue;
      readFileSync(resolve(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (line.length > MAX_COLUMNS) bad.push(`${file}:${i + 1} (${line.length} columns)`);
        });
    }
    expect(bad).toEqual([]);
  });

  it('no two product files export the same name', () => {
    const declared =
      /^export (?:declare )?(?:const|let|function|class|interface|type|enum|abstract class) ([A-Za-z_0-9]+)/gm;
    const files = new Map<string, string[]>();
    for (const file of ALL.filter(isProduct)) {
      const text = readFileSync(resolve(ROOT, file), 'utf8');
      for (let m = declared.exec(text); m !== null; m = declared.exec(text))
        files.set(m[1]!, [...(files.get(m[1]!) ?? []), file]);
    }
    const duplicates = [...files]
      .filter(([name, where]) => new Set(where).size > 1 && !KNOWN['duplicate-export']!.includes(name))
      .map(([name, where]) => `${name}: ${[...new Set(where)].join(', ')}`)
      .sort();
    expect(duplicates).toEqual([]);
  });

  it('the known breaks listed above still exist (an entry goes when its break is fixed)', () => {
    const declared =
      /^export (?:declare )?(?:const|let|function|class|interface|type|enum|abstract class) ([A-Za-z_0-9]+)/gm;
    const count = new Map<string, Set<string>>();
    for (const file of ALL.filter(isProduct)) {
      const text = readFileSync(resolve(ROOT, file), 'utf8');
      for (let m = declared.exec(text); m !== null; m = declared.exec(text))
        count.set(m[1]!, (count.get(m[1]!) ?? new Set()).add(file));
    }
    const fixed = KNOWN['duplicate-export']!.filter((name) => (count.get(name)?.size ?? 0) < 2);
    expect(fixed).toEqual([]);
  });
});
