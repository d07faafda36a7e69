/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  // Generous: a test's timeout only guards against a hang; on a loaded 2-core machine 30 s was reached by
  // tests that assert counts and order, never durations.
  testTimeout: 90000,
  // Integration tests start their own dynalite / simulator on ephemeral loopback ports,
  // so files can run in parallel on the 2 cores.
  maxWorkers: 2,
};
