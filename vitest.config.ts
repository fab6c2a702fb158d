import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn the CLI and copy real trees: slow on a 2-core CI machine, not hung.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One test file per core: each file's CLI runs start worker processes of their own.
    maxWorkers: 2,
  },
});
