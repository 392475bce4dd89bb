import { readFileSync } from 'node:fs';
/**
 * The --json contract, without a lab: every command that takes --json (found in the commander tree, so a new one is
 * covered) writes exactly one JSON document on stdout on its failure paths — a missing inventory or file, an
 * unknown option, a missing argument — and `{"ok": false, "error": {"code", "message"}}` carries its exit code.
 * The commands that need no cluster are run on their success path too; the others in test/e2e/json-contract.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, commandTree } from '../../src/cli.js';
import { ELSEWHERE_SUCCESS, LAB_SUCCESS, oneDocument, UNIT_SUCCESS } from '../json-contract-cases.js';
import { runCli } from './cli-harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hw-json-'));
const MISSING = path.join(tmp, 'missing.yaml');

let jsonCommands: { path: string; cmd: Command }[] = [];
beforeAll(async () => {
  const program = await buildProgram(['node', 'hardway']);
  jsonCommands = commandTree(program).filter(({ cmd }) => cmd.options.some((o) => o.long === '--json'));
});

/** A value for each required argument, so that the run gets past commander to the command itself. */
function requiredArgs(cmd: Command): string[] {
  return cmd.registeredArguments.filter((a) => a.required).map((a) => (a.name() === 'node' ? 'controller-9' : a.name() === 'key' ? '/nope' : a.name() === 'rev' ? '5' : path.join(tmp, 'missing-file')));
}

/** A failing run instead of a missing inventory, for commands that read none. */
const FAILURE_ARGS: Record<string, string[]> = { 'lab status': ['--dir', '/etc/passwd'] };
/** Commands whose missing-inventory run fails on something else (their FILE argument), as they read no inventory. */
const READS_NO_INVENTORY = new Set(['snapshot status', 'lint-unit', 'lab status']);

async function failing(args: string[], code?: number): Promise<{ ok: boolean; error: { code: number; message: string } } & Record<string, unknown>> {
  const r = await runCli(...args);
  const doc = oneDocument(r.out) as { ok: boolean; error: { code: number; message: string } } & Record<string, unknown>;
  expect(r.code, r.err).not.toBe(0);
  if (code !== undefined) expect(r.code, r.err).toBe(code);
  expect(doc.ok).toBe(false);
  expect(doc.error).toEqual({ code: r.code, message: expect.any(String) });
  expect(doc.error.message.length).toBeGreaterThan(0);
  return doc;
}

async function succeeding(args: string[]): Promise<Record<string, unknown> | unknown[]> {
  const r = await runCli(...args);
  expect(r.code, r.err + r.out).toBe(0);
  return oneDocument(r.out);
}

afterEach(() => {
  delete process.env.HARDWAY_INVENTORY;
});

describe('every --json command, on its failure paths', () => {
  it('finds the --json commands in the command tree', () => {
    const paths = jsonCommands.map((c) => c.path);
    expect(paths).toEqual(expect.arrayContaining(['verify', 'keys get', 'member remove', 'snapshot status', 'member list', 'leader', 'leader move']));
    expect(paths.length).toBeGreaterThan(30);
  });

  it('each has a success path tested: here or on the lab', () => {
    const tested = new Set<string>([...UNIT_SUCCESS, ...LAB_SUCCESS, ...Object.keys(ELSEWHERE_SUCCESS)]);
    expect(jsonCommands.map((c) => c.path).filter((p) => !tested.has(p))).toEqual([]);
    // And no stale entries.
    expect([...tested].filter((p) => !jsonCommands.some((c) => c.path === p))).toEqual([]);
  });

  it('the success paths taken in other e2e files are there: the command with --json, its document read', () => {
    for (const [command, file] of Object.entries(ELSEWHERE_SUCCESS)) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      const call = new RegExp(`\\[${command.split(' ').map((w) => `'${w}'`).join(', ')},[^\\]]*'--json'\\]`);
      expect(text, `${file} runs ${command} --json`).toMatch(call);
      expect(text, `${file} reads the document`).toMatch(/oneDocument\(r\.stdout\)/);
    }
  });

  it('a missing inventory (or file): one document, ok false, the exit code', async () => {
    for (const { path: p, cmd } of jsonCommands) {
      const args = [...p.split(' '), ...requiredArgs(cmd), ...(FAILURE_ARGS[p] ?? ['-i', MISSING]), '--json'];
      const doc = await failing(args);
      if (!READS_NO_INVENTORY.has(p)) expect(doc.error, p).toEqual({ code: 2, message: expect.stringMatching(/missing\.yaml: no such inventory file\. Write one with 'hardway init'/) });
    }
  });

  it('an unknown option: a usage error as a document (exit 2)', async () => {
    for (const { path: p } of jsonCommands) {
      const doc = await failing([...p.split(' '), '--json', '--no-such-option'], 2);
      expect(doc.error.message, p).toMatch(/^unknown option '--no-such-option'/);
    }
  });

  it('a missing argument: a usage error as a document (exit 2)', async () => {
    const withArgs = jsonCommands.filter(({ cmd }) => cmd.registeredArguments.some((a) => a.required));
    expect(withArgs.length).toBeGreaterThan(4);
    for (const { path: p, cmd } of withArgs) {
      const doc = await failing([...p.split(' '), '--json', '-i', MISSING], 2);
      expect(doc.error.message, p).toBe(`missing required argument '${cmd.registeredArguments[0]!.name()}'`);
    }
  });

  it('the cases of the issue that wrote nothing', async () => {
    expect((await failing(['keys', 'get', '/nope', '--json', '-i', MISSING], 2)).error.message).toMatch(/no such inventory file/);
    expect((await failing(['member', 'remove', 'nosuch', '--yes', '--json', '-i', MISSING], 2)).error.message).toMatch(/no such inventory file/);
    expect((await failing(['snapshot', 'status', path.join(tmp, 'missing.db'), '--json'], 2)).error.message).toMatch(/missing\.db: no such file/);
    process.env.HARDWAY_INVENTORY = MISSING;
    expect((await failing(['verify', '--json'], 2)).error.message).toMatch(/no such inventory file/);
  });

  it('--json given to a command without it: the usage error is a document too', async () => {
    expect((await failing(['init', '--json'], 2)).error.message).toBe("unknown option '--json'");
  });

  it('a command that fails after its report: the report is the partial result beside ok false', async () => {
    const unit = path.join(tmp, 'bad.service');
    writeFileSync(unit, '[Service]\nExecStart=/usr/local/bin/etcd \\\\\n  --name x\n');
    const doc = await failing(['lint-unit', unit, '--no-systemd-analyze', '--json'], 1);
    expect(doc).toMatchObject({ ok: false, error: { code: 1, message: expect.stringMatching(/bad\.service: \d+ errors?/) }, file: unit, problems: expect.any(Array) });
    expect(Object.keys(doc).slice(0, 2)).toEqual(['ok', 'error']);
  });
});

describe('the --json commands that need no cluster, on their success path', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-json-ok-'));
  const inv = path.join(dir, 'inventory.yaml');
  writeFileSync(inv, `pki:\n  dir: ./pki\nsnapshots:\n  dir: ./snaps\nnodes:\n${[0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.9.0.${10 + i}\n`).join('')}`);

  it('pki, pki check, render, lint-unit, env (HARDWAY_INVENTORY as -i)', async () => {
    const ran: string[] = [];
    const pki = (await succeeding(['pki', '-i', inv, '--json'])) as { files: { name: string; action: string }[] };
    expect(pki.files.map((f) => f.action)).toContain('created');
    ran.push('pki');
    expect(await succeeding(['pki', 'check', '-i', inv, '--json'])).toMatchObject({ ok: true });
    ran.push('pki check');
    const rendered = (await succeeding(['render', '-i', inv, '--out', path.join(dir, 'out'), '--no-systemd-analyze', '--json'])) as { node: string; written: boolean }[];
    expect(rendered.map((r) => [r.node, r.written])).toEqual([['controller-0', true], ['controller-1', true], ['controller-2', true]]);
    ran.push('render');
    expect(await succeeding(['lint-unit', path.join(dir, 'out/controller-0/etcd.service'), '--no-systemd-analyze', '--json'])).toMatchObject({ errors: 0 });
    ran.push('lint-unit');
    process.env.HARDWAY_INVENTORY = inv;
    expect(await succeeding(['env', '--json'])).toMatchObject({ ETCDCTL_CACERT: path.join(dir, 'pki/ca.pem') });
    ran.push('env');
    expect(ran.every((p) => (UNIT_SUCCESS as readonly string[]).includes(p))).toBe(true);
  });

  it('snapshot status (with -i, which it does not need), list and prune', async () => {
    const body = Buffer.alloc(2 * 4096, 7);
    const snap = path.join(dir, 'a.db');
    writeFileSync(snap, Buffer.concat([body, createHash('sha256').update(body).digest()]));
    expect(await succeeding(['snapshot', 'status', snap, '-i', inv, '--json'])).toMatchObject({ file: snap });
    expect(await succeeding(['snapshot', 'list', '--dir', dir, '--json'])).toEqual(expect.any(Array));
    expect(await succeeding(['snapshot', 'prune', '--dir', dir, '--keep', '1', '--yes', '--json'])).toMatchObject({ ok: true, removed: [] });
  });

  it('doctor --journal and lab status', async () => {
    expect(await succeeding(['doctor', '--journal', path.join(ROOT, 'test/fixtures/journal/unrelated.short.txt'), '--json'])).toMatchObject({ ok: true });
    expect(await succeeding(['lab', 'status', '--dir', path.join(dir, 'no-lab'), '--json'])).toMatchObject({ nodes: [] });
  });
});

describe('a usage error with a suggestion', () => {
  it("keeps commander's suggestion on the one line of the message", async () => {
    const r = await runCli('member', 'list', '--jsn', '--json');
    expect(r.code).toBe(2);
    expect(oneDocument(r.out)).toEqual({ ok: false, error: { code: 2, message: "unknown option '--jsn' (Did you mean --json?)" } });
  });
});
