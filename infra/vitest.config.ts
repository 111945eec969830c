import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    name: 'infra',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // Synthesizing a stack takes a few seconds on a loaded machine; 5 s would fail tests for being slow.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
