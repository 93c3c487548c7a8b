import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/unhandled.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: threads share the machine with real node processes in integration tests.
    pool: 'forks',
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});
