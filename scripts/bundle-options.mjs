// esbuild's options for the CLI bundle, shared by scripts/bundle.mjs and the completion test (which builds the
// current source into a directory of its own, so it never runs a stale dist/).
// ssh2 stays outside: it loads optional native bindings with require() at run time.
export function bundleOptions(root, outdir) {
  return {
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
  };
}
