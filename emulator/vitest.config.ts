import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    name: 'emulator',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // Real processes on a shared, loaded machine: generous limits, event-driven waits inside the tests.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
