import { defineConfig } from 'vitest/config';

// Node runs of the suite. Files named *.node.test.ts may use Node built-ins; every other test file
// is kept free of them so that the browser runs can include it unchanged.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // big factorisations (d = 513, d = 2048) on a noisy 2-core machine
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // one worker per core; each file gets a fresh module graph (and so a fresh wasm instance)
    pool: 'forks',
    maxWorkers: 2,
    isolate: true,
    reporters: ['default'],
  },
});
