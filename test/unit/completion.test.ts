/**
 * `hardway completion bash`, loaded in a real bash and driven as bash drives it (COMP_WORDS, COMP_CWORD, the
 * function `complete` registered): commands, subcommands, flags, choices, and node names read from a real
 * inventory through `hardway __complete nodes` — the CLI built from the current source into .hardway/ by esbuild
 * (a second or two), so the test never runs a stale dist/.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs script without types
import { bundleOptions } from '../../scripts/bundle-options.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { completionScript, completionTree } from '../../src/completion.js';
import { runCli } from './cli-harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(ROOT, '.hardway', `completion-test-${process.pid}`);
const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-compl-'));
const inv = path.join(dir, 'lab.yaml');
const other = path.join(dir, 'other.yaml');
let script = '';

beforeAll(async () => {
  await build({ ...bundleOptions(ROOT, out), logLevel: 'error' });
  mkdirSync(path.join(dir, 'bin'));
  const bin = path.join(dir, 'bin', 'hardway');
  writeFileSync(bin, `#!/bin/sh\nexec '${process.execPath}' --input-type=module -e "const { main } = await import('${out}/cli.cjs'); process.exitCode = await main(process.argv.slice(0, 1).concat(['hardway'], process.argv.slice(1)));" -- "$@"\n`);
  chmodSync(bin, 0o755);
  writeFileSync(inv, `nodes:\n${['etcd-alpha', 'etcd-beta', 'etcd-gamma'].map((n, i) => `  - name: ${n}\n    address: 10.9.0.${i + 1}\n`).join('')}`);
  writeFileSync(other, 'nodes:\n  - name: solo\n    address: 10.9.1.1\n');
  const r = await runCli('completion', 'bash');
  expect(r.code, r.err).toBe(0);
  script = path.join(dir, 'hardway.bash');
  writeFileSync(script, r.out);
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The words bash completes for `line` (the cursor at its end: a trailing space starts a new word). */
function complete(line: string, env: Record<string, string> = {}): string[] {
  const words = line.split(' ');
  const driver = `source '${script}'
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE='${line}'; COMP_POINT=${line.length}
fn=$(complete -p hardway | sed -E 's/.*-F ([^ ]+) .*/\\1/')
"$fn" hardway "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const stdout = execFileSync('bash', ['--norc', '--noprofile', '-c', driver], { cwd: dir, encoding: 'utf8', env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, ...env } });
  return stdout.split('\n').filter(Boolean).sort();
}

describe('the bundle bin/hardway runs', () => {
  it('is one CommonJS file with no import() left: the code-cached vm.Script that runs it has no dynamic import callback', () => {
    expect(readdirSync(out).filter((f) => !f.endsWith('.map'))).toEqual(['cli.cjs']);
    expect(readFileSync(path.join(out, 'cli.cjs'), 'utf8')).not.toMatch(/\bimport\(/);
  });
});

describe('hardway completion bash', () => {
  it('completes commands and subcommands, hidden ones left out', () => {
    const top = complete('hardway ');
    expect(top).toEqual(expect.arrayContaining(['verify', 'member', 'snapshot', 'leader', 'completion', 'etcdctl']));
    expect(top).not.toContain('__complete');
    expect(complete('hardway me')).toEqual(['member']);
    expect(complete('hardway member ')).toEqual(['list', 'remove', 'replace']);
    expect(complete('hardway snapshot s')).toEqual(['save', 'status']);
  });

  it("completes a command's flags, and the choices of a flag's value", () => {
    expect(complete('hardway verify --')).toEqual(expect.arrayContaining(['--json', '--inventory', '--perf', '--load', '--accept-new', '--help']));
    expect(complete('hardway member replace --w')).toEqual(['--wait']);
    expect(complete('hardway verify --load ')).toEqual(['l', 'm', 's', 'xl']);
    expect(complete('hardway completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  it('completes node names from the inventory: -i FILE, HARDWAY_INVENTORY or ./inventory.yaml', () => {
    expect(complete(`hardway member remove -i ${inv} `)).toEqual(['etcd-alpha', 'etcd-beta', 'etcd-gamma']);
    expect(complete(`hardway member remove -i ${inv} etcd-b`)).toEqual(['etcd-beta']);
    expect(complete(`hardway leader -i ${inv} move `)).toEqual(['etcd-alpha', 'etcd-beta', 'etcd-gamma']);
    expect(complete('hardway reset ', { HARDWAY_INVENTORY: other })).toEqual(['solo']);
    writeFileSync(path.join(dir, 'inventory.yaml'), 'nodes:\n  - name: here-0\n    address: 10.9.2.1\n');
    expect(complete('hardway member replace ')).toEqual(['here-0']);
  });

  it('completes node names as the value of --node and in the comma list of --nodes', () => {
    expect(complete(`hardway etcdctl -i ${inv} --node etcd-g`)).toEqual(['etcd-gamma']);
    expect(complete(`hardway up -i ${inv} --nodes etcd-alpha,etcd-`)).toEqual(['etcd-alpha,etcd-alpha', 'etcd-alpha,etcd-beta', 'etcd-alpha,etcd-gamma']);
    // After the node, the command takes no other argument: no node names again.
    expect(complete(`hardway member remove -i ${inv} etcd-beta `)).not.toContain('etcd-alpha');
  });

  it('no inventory: no node names, and no error on the terminal', () => {
    expect(complete('hardway member remove -i /nonexistent.yaml ')).toEqual([]);
  });
});

describe('hardway completion zsh|fish', () => {
  it('are generated from the same tree', async () => {
    const tree = completionTree(await buildProgram(['node', 'hardway']));
    const zsh = completionScript('zsh', tree);
    expect(zsh).toMatch(/^#compdef hardway\n/);
    expect(zsh).toContain('bashcompinit');
    const fish = completionScript('fish', tree);
    expect(fish).toContain("complete -c hardway -n '__hardway_at '\\''member'\\''' -a 'remove'");
    expect(fish).toContain("complete -c hardway -n '__hardway_at '\\''member remove'\\''' -a '(__hardway_nodes)'");
    expect(fish).toMatch(/complete -c hardway -n '__hardway_at '\\''verify'\\''' -l json -d /);
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runCli('completion', 'tcsh');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/);
  });
});
