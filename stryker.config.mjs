// Mutation testing of hardway's pure core: `npm run test:mutation` (full), `npm run test:mutation:incremental`
// (only mutants whose code or tests changed since reports/stryker-incremental.json).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: true },
  coverageAnalysis: 'perTest',
  // A static mutant (one in code that runs when a module loads: the signature catalog, top-level tables and
  // regexes) has no per-test coverage, so each would rerun every related test file: ~1,200 of them would take
  // the run from about an hour to days on two cores. They are reported as ignored, not counted in the score.
  ignoreStatic: true,
  // Two cores, shared with the end-to-end lab: one test runner at a time.
  concurrency: 1,
  mutate: [
    'src/etcd/quorum.ts',
    'src/provision/plan.ts',
    'src/provision/desired.ts',
    'src/etcd/ids.ts',
    'src/journal/parse.ts',
    'src/journal/signatures.ts',
    'src/journal/elections.ts',
    'src/journal/diagnose.ts',
    'src/doctor/cluster.ts',
    'src/render/lint.ts',
    'src/inventory/validate.ts',
    'src/snapshot/integrity.ts',
    'src/keys/decode.ts',
    // The cluster-condition model and the upgrade preflight (globs: a file not there yet is no error).
    'src/cluster/condition*.ts',
    'src/upgrade/preflight*.ts',
  ],
  // Anchored at the root (a bare 'pki' would also drop src/pki/ from the sandbox, and every test importing it).
  ignorePatterns: ['/.hardway', '/.ci', '/bench', '/dist', '/out', '/pki', '/reports', '*.log'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incrementalFile: 'reports/stryker-incremental.json',
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
