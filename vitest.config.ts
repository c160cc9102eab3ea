import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          // Pure code only: no DynamoDB Local, no HTTP stack, so `npm run test:unit` answers in seconds.
          // Files share their workers' module cache (no per-file re-import: 7 s -> 3 s on 2 cores); fine
          // while unit tests keep off process.env and restore the spies they set.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          // One DynamoDB Local for the whole run, on a free port; every test file uses its own member ids.
          globalSetup: ['tests/support/global-setup.ts'],
          setupFiles: ['tests/support/env.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['tests/infra/**/*.test.ts'],
          // One worker, one module cache: the files share one synthesis of the stack (tests/support/synth.ts).
          isolate: false,
          fileParallelism: false,
        },
      },
    ],
  },
});
