import { ENCRYPTION_HEAD_BYTES, encryptionReport, secretName, SECRETS_PREFIX, type EncryptionReport } from './encryption.js';
import { listKeys, type Asker } from './read.js';

/**
 * The secrets-at-rest check of `hardway verify`: one problem per secret stored unencrypted; nothing when the cluster
 * holds no secret (an etcd for something else than Kubernetes, or one not yet used by kube-apiserver).
 */

export interface EncryptionProblem {
  check: 'encryption';
  severity: 'error' | 'warning';
  message: string;
}

export function encryptionProblems(r: EncryptionReport): EncryptionProblem[] {
  return r.unencrypted.map((s) => ({
    check: 'encryption',
    severity: 'error',
    message: `secret ${secretName(s)} is not encrypted at rest (set --encryption-provider-config on kube-apiserver, then rewrite: kubectl get secrets -A -o json | kubectl replace -f -; hardway keys encryption lists them all)`,
  }));
}

/** Reads the secrets' first bytes; a read that fails is a warning (the cluster checks above say why it fails). */
export async function checkSecretsAtRest(a: Asker): Promise<{ report?: EncryptionReport; problems: EncryptionProblem[] }> {
  try {
    const listing = await listKeys(a, SECRETS_PREFIX, { headBytes: ENCRYPTION_HEAD_BYTES });
    const report = encryptionReport(listing.revision, listing.keys);
    return { report, problems: encryptionProblems(report) };
  } catch (e) {
    return { problems: [{ check: 'encryption', severity: 'warning', message: `could not read ${SECRETS_PREFIX}: ${(e as Error).message}` }] };
  }
}
