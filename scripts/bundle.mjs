#!/usr/bin/env node
// Bundles the CLI (src/cli.ts and every command, with their dependencies) into dist/bundle/, one chunk per
// lazily loaded command. Node 20 spends most of a short command's start-up resolving and compiling the hundreds of
// ESM files of zod, yaml, commander and node-forge; a few chunks start `hardway pki` ~75 ms sooner (bench/pki.md).
// ssh2 stays outside: it loads optional native bindings with require() at run time.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', 'node-ssh', 'cpu-features'],
  // CommonJS dependencies (node-forge, handlebars, cli-table3) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __hardwayRequire } from 'node:module'; const require = __hardwayRequire(import.meta.url);" },
  minifySyntax: true,
  minifyWhitespace: true,
  // Read only with HARDWAY_DEBUG (bin/hardway), so that a stack trace names src/ files and lines.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'eof',
  logLevel: 'warning',
});
