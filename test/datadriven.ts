// Scripted interaction tests in the style of etcd's datadriven tests, for every pure core.
//
// A script is a sequence of blocks; each block is one command line, a line "----", and the
// expected output up to the next blank line. Lines starting with # and blank lines between
// blocks are kept as they are. An empty output is written `ok`. With REWRITE=1 the runner writes
// the actual output back into the file, so a behaviour change shows up as a reviewable diff.
//
// A core's runner is a table of command handlers: the command's first word picks the handler,
// which gets the scenario's state and the parsed line, and returns the output lines. A handler
// that throws prints `error: <message>` (so refusals are part of the expected output).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Block {
  readonly pre: string[];
  readonly command: string;
  readonly expected: string[];
}

export interface ParsedScript {
  readonly blocks: Block[];
  readonly trailer: string[];
}

export function parseScript(text: string): ParsedScript {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const blocks: Block[] = [];
  let pre: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) {
      pre.push(line);
      i++;
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected "----" after command "${line}"`);
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== '') expected.push(lines[i++] as string);
    blocks.push({ pre, command: line, expected });
    pre = [];
  }
  return { blocks, trailer: pre };
}

export function renderScript(
  blocks: ReadonlyArray<{ pre: string[]; command: string; output: string[] }>,
  trailer: string[],
): string {
  const out: string[] = [];
  for (const b of blocks) {
    out.push(...b.pre, b.command, '----', ...(b.output.length > 0 ? b.output : ['ok']));
  }
  out.push(...trailer);
  return `${out.join('\n')}\n`;
}

/** Anything that turns one command line into output lines. */
export interface ScriptRunner {
  run(command: string): string[];
}

/** One command line, split: `join a g p1,p2 force=true` → name `join`, args [a, g, p1,p2], kv {force}. */
export interface Command {
  readonly name: string;
  readonly line: string;
  /** Words after the name that are not key=value. */
  readonly args: readonly string[];
  readonly kv: ReadonlyMap<string, string>;
  /** Positional argument `i`, or an error naming `what` when it is missing. */
  arg(i: number, what: string): string;
  /** A key=value as a number (default when absent; an error when not a number). */
  num(key: string, fallback?: number): number | undefined;
}

export function parseCommand(line: string): Command {
  const [name = '', ...words] = line.trim().split(/\s+/);
  const args: string[] = [];
  const kv = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) kv.set(w.slice(0, eq), w.slice(eq + 1));
    else args.push(w);
  }
  return {
    name,
    line,
    args,
    kv,
    arg(i, what) {
      const a = args[i];
      if (a === undefined) throw new Error(`${name}: missing ${what}`);
      return a;
    },
    num(key, fallback) {
      const v = kv.get(key);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`${name}: ${key}=${v} is not a number`);
      return n;
    },
  };
}

/** Handlers by command name; each returns the lines to print (nothing printed as `ok`). */
export type CommandTable<S> = Readonly<Record<string, (state: S, command: Command) => string[] | void>>;

/** A runner that dispatches each line to `table` with the shared scenario `state`. */
export function tableRunner<S>(state: S, table: CommandTable<S>): ScriptRunner {
  return {
    run(line) {
      const command = parseCommand(line);
      const handler = table[command.name];
      if (handler === undefined) throw new Error(`unknown command ${command.name}`);
      return handler(state, command) ?? [];
    },
  };
}

/** Run a script file through `runner`; returns [expected text, actual text]. Rewrites the file when asked. */
export function runScriptFile(
  path: string,
  runner: ScriptRunner,
  rewrite: boolean,
): { expected: string; actual: string } {
  const expected = readFileSync(path, 'utf8');
  const parsed = parseScript(expected);
  const rendered = parsed.blocks.map((b) => {
    let output: string[];
    try {
      output = runner.run(b.command);
    } catch (err) {
      output = [`error: ${(err as Error).message}`];
    }
    return { pre: b.pre, command: b.command, output };
  });
  const actual = renderScript(rendered, parsed.trailer);
  if (rewrite && actual !== expected) writeFileSync(path, actual);
  return { expected, actual };
}

/** The `.txt` scripts of a testdata folder, sorted. */
export function scriptFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => join(dir, f));
}

/** REWRITE=1 asks runners to write actual output back into the scripts. */
export const REWRITE = process.env.REWRITE === '1';
