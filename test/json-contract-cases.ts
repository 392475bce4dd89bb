/**
 * Where each command that takes `--json` has its success path tested: test/unit/json-contract.test.ts runs those
 * that need no cluster, test/e2e/json-contract.test.ts those that talk to one. The unit test derives the list of
 * `--json` commands from the commander tree and fails for any command in neither list, so a new command is
 * covered (or the test says it is not); the e2e test fails when LAB_SUCCESS names a command it does not run.
 */
export const UNIT_SUCCESS = ['pki', 'pki check', 'render', 'lint-unit', 'env', 'lab status', 'snapshot status', 'snapshot list', 'snapshot prune', 'doctor'] as const;

export const LAB_SUCCESS = [
  'plan',
  'up',
  'verify',
  'doctor',
  'tune',
  'member list',
  'member remove',
  'member replace',
  'leader',
  'leader move',
  'defrag',
  'alarm list',
  'alarm disarm',
  'reset',
  'keys list',
  'keys stats',
  'keys get',
  'keys diff',
  'keys encryption',
  'snapshot save',
  'snapshot status',
  'snapshot list',
  'snapshot restore',
  'pki renew',
] as const;

/**
 * `--json` success paths another e2e file already takes (a flow too long to run twice in the suite): the command and
 * the file that runs it with --json and reads the document.
 */
export const ELSEWHERE_SUCCESS: Record<string, string> = {
  recover: 'test/e2e/recover.test.ts',
  'pki rotate-ca': 'test/e2e/certs.test.ts',
};

/** The one document a `--json` run wrote: stdout parsed whole (two documents, or text beside one, throw). */
export function oneDocument(stdout: string): Record<string, unknown> | unknown[] {
  return JSON.parse(stdout) as Record<string, unknown> | unknown[];
}
