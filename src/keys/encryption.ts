import { decodeValue, type ValueFormat } from './decode.js';
import { objectName } from './keyspace.js';
import type { KeyInfo } from '../etcd/sized-get.js';

/**
 * `hardway keys encryption`: is every Secret encrypted at rest? kube-apiserver prefixes what an encryption provider
 * wrote with `k8s:enc:<provider>:<version>:<key name>:`; the identity provider, or no EncryptionConfiguration,
 * stores the object as it is. The first bytes of each value tell (listing.ts brings only those). Pure.
 */

export const SECRETS_PREFIX = '/registry/secrets/';
/** Enough of a value for the longest encryption prefix (a KMS provider's name is at most a few dozen bytes). */
export const ENCRYPTION_HEAD_BYTES = 512;

export interface SecretEntry {
  key: string;
  namespace?: string;
  name: string;
  size: number;
  encrypted: boolean;
  provider?: string;
  version?: string;
  keyName?: string;
  /** What an unencrypted value is (protobuf as kube-apiserver writes it, JSON, …). */
  format?: ValueFormat;
}

export interface KeyUse {
  provider: string;
  version: string;
  keyName: string;
  count: number;
}

export interface EncryptionReport {
  revision: string;
  total: number;
  encrypted: number;
  /** Per provider and key name, most used first. */
  keys: KeyUse[];
  unencrypted: SecretEntry[];
  secrets: SecretEntry[];
}

export const ENCRYPTION_FIX = [
  'Secrets are written unencrypted. To encrypt them at rest:',
  '  1. give kube-apiserver an EncryptionConfiguration with a provider for secrets (aescbc, aesgcm, secretbox or kms)',
  '     before identity: --encryption-provider-config=/var/lib/kubernetes/encryption-config.yaml, then restart it;',
  '  2. rewrite the existing secrets so that they are stored again, encrypted:',
  '     kubectl get secrets -A -o json | kubectl replace -f -',
];

export function classifySecret(k: Pick<KeyInfo, 'key' | 'size' | 'head'>): SecretEntry {
  const head = k.head ?? new Uint8Array();
  const { namespace, name } = objectName(k.key);
  const base = { key: k.key, ...(namespace ? { namespace } : {}), name, size: k.size };
  const d = decodeValue(head);
  if (d.encryption) {
    const { provider, version, keyName } = d.encryption;
    return { ...base, encrypted: true, provider, version, keyName };
  }
  return { ...base, encrypted: false, format: d.format };
}

export function encryptionReport(revision: string, secrets: Iterable<Pick<KeyInfo, 'key' | 'size' | 'head'>>): EncryptionReport {
  const all = [...secrets].map(classifySecret);
  const uses = new Map<string, KeyUse>();
  for (const s of all.filter((x) => x.encrypted)) {
    const id = `${s.provider}\0${s.version}\0${s.keyName}`;
    const u = uses.get(id) ?? { provider: s.provider!, version: s.version!, keyName: s.keyName!, count: 0 };
    u.count++;
    uses.set(id, u);
  }
  const unencrypted = all.filter((s) => !s.encrypted);
  return {
    revision,
    total: all.length,
    encrypted: all.length - unencrypted.length,
    keys: [...uses.values()].sort((a, b) => b.count - a.count),
    unencrypted,
    secrets: all,
  };
}

/** `default/db-password`, or the name alone for a key without a namespace. */
export const secretName = (s: Pick<SecretEntry, 'namespace' | 'name'>): string => (s.namespace ? `${s.namespace}/${s.name}` : s.name);
