/**
 * The PKI directory's file names and modes. Kept free of heavy imports so that provisioning can read them
 * without loading node-forge.
 */
export const PKI_FILES = {
  ca: 'ca.pem',
  caKey: 'ca-key.pem',
  cert: 'kubernetes.pem',
  key: 'kubernetes-key.pem',
} as const;

export type PkiFileName = (typeof PKI_FILES)[keyof typeof PKI_FILES];

export const DIR_MODE = 0o700;
export const KEY_MODE = 0o600;
export const CERT_MODE = 0o644;

/** A certificate that expires within this many days is renewed (the leaf) or reported (both). */
export const RENEW_BEFORE_DAYS = 30;

/**
 * The CA outlives its leaves: 5 years, as `cfssl gencert -initca` (and so KTHW) does, or validityDays if longer.
 * A CA is never replaced automatically, so it must not expire with the first leaf.
 */
export const CA_MIN_VALIDITY_DAYS = 5 * 365;

export function caValidityDays(validityDays: number): number {
  return Math.max(validityDays, CA_MIN_VALIDITY_DAYS);
}
