/** The PKI's public API, for the commands and for provisioning (which ships ca.pem and the leaf to nodes). */
export { PKI_FILES, RENEW_BEFORE_DAYS } from './files.js';
export { ensurePki, type EnsureResult, type FileAction, type FileResult } from './ensure.js';
export { checkPki, type CertRow, type PkiCheck } from './check.js';
