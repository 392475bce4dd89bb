import { defineConfig } from 'vitest/config';

// The unit tests alone, as one project, for StrykerJS (stryker.config.mjs): mutants are only ever run against
// unit tests, never against the end-to-end lab.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    // Stryker's vitest runner runs the tests in worker threads, where process.umask() cannot change the umask
    // that pki.test.ts sets; the PKI is not part of the mutated core.
    exclude: ['test/unit/pki*.test.ts'],
    testTimeout: 30_000,
  },
});
