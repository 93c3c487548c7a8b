// A process-level guard: any unhandled rejection or uncaught exception during a test fails that
// test (not only the run), so no input path can hide one.
import { afterEach, expect } from 'vitest';

const seen: unknown[] = [];
process.on('unhandledRejection', (reason) => seen.push(reason));
process.on('uncaughtException', (error) => seen.push(error));

afterEach(() => {
  const found = seen.splice(0);
  expect(found.map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)))).toEqual([]);
});
