/**
 * Moved to render/unit-flags.ts; kept for observe.ts and up-steps.ts, whose import of it is another change's
 * to make (then this file goes).
 */
export * from '../render/unit-flags.js';
