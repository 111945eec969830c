import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    name: 'collector',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // A PostgreSQL server for the tests that run on both backends (see test/pg-cluster.ts).
    globalSetup: ['test/pg-cluster.ts'],
    // The machine is shared and loaded: generous bounds, event-driven waits inside the tests.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
