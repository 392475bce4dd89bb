// esbuild's options for the CLI bundle, shared by scripts/bundle.mjs and the completion test (which builds the
// current source into a directory of its own, so it never runs a stale dist/).
// One CommonJS file, every command in it (each module initialised only when a run imports it): bin/hardway compiles
// it with V8's code cache, which Node 20 offers for scripts only (vm.Script), not for ES modules.
// ssh2 is bundled too (so that the code cache covers its ~60 files, ~50 ms of CPU per up/verify, bench/up.md); its
// optional native bindings stay outside, required by package path at run time as ssh2 itself would.
export function bundleOptions(root, outdir) {
  return {
    absWorkingDir: root,
    entryPoints: ['src/cli.ts'],
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    splitting: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['cpu-features'],
    plugins: [
      {
        name: 'ssh2-native-binding',
        setup(b) {
          // ssh2 requires it relative to its own file, inside a try (it has a pure-JS fallback): the same file, by package path.
          b.onResolve({ filter: /sshcrypto\.node$/ }, () => ({ path: 'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node', external: true }));
        },
      },
    ],
    // import() becomes require(), also of Node's built-ins: a script compiled by vm.Script (bin/hardway) has no
    // dynamic import callback once it comes from the code cache.
    supported: { 'dynamic-import': false },
    // The sources are ES modules: strict, as they were written; `import.meta.url` (the templates' directory) is the
    // bundle's own file.
    banner: { js: "'use strict'; const __hardwayModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__hardwayModuleUrl' },
  };
}
