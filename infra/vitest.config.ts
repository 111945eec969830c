import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    name: 'infra',
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
});
