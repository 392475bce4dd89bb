/**
 * Moved to pki/installed.ts; kept for provision/up-steps.ts, whose import of it is another change's to make (then
 * this file goes).
 */
export * from '../pki/installed.js';
