#!/usr/bin/env node
// Bundles the CLI (src/cli.ts and every command, with their dependencies) into one file, dist/bundle/cli.cjs.
// Node 20 spends most of a short command's start-up resolving and compiling the hundreds of ES modules of zod, yaml,
// commander and hardway itself; one file compiled with V8's code cache (bin/hardway) skips most of both.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleOptions } from './bundle-options.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  ...bundleOptions(root, outdir),
  minifySyntax: true,
  minifyWhitespace: true,
  // Read only with HARDWAY_DEBUG (bin/hardway), so that a stack trace names src/ files and lines.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'eof',
  logLevel: 'warning',
});
