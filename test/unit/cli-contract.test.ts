/**
 * What cli.ts gives every command: examples in its help, numeric defaults shown as numbers, `-i` with
 * HARDWAY_INVENTORY, options given on a parent reaching the subcommand that runs; and `hardway etcdctl` passing the
 * options it does not own through to etcdctl.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandTree, isHidden } from '../../src/cli.js';
import { EXAMPLES } from '../../src/help-examples.js';
import { runCli } from './cli-harness.js';

const all = async () => commandTree(await buildProgram(['node', 'hardway']));

/** Parses argv with the real program, the action of `path` replaced by one that records what it was given. */
async function parsed(path: string, argv: string[]): Promise<{ args: unknown[]; opts: Record<string, unknown> }> {
  const program = await buildProgram(['node', 'hardway', ...argv]);
  const cmd = commandTree(program).find((c) => c.path === path)!.cmd;
  let got: { args: unknown[]; opts: Record<string, unknown> } | undefined;
  cmd.action((...a: unknown[]) => {
    const c = a[a.length - 1] as Command;
    got = { args: a.slice(0, c.registeredArguments.length), opts: c.opts() };
  });
  await program.parseAsync(['node', 'hardway', ...argv]);
  return got!;
}

describe('help', () => {
  it('every command has one or two examples after its help, and every example names a command', async () => {
    const tree = (await all()).filter(({ cmd }) => !isHidden(cmd));
    const missing = tree.filter(({ path }) => !(EXAMPLES[path]?.length && EXAMPLES[path]!.length <= 2)).map((c) => c.path || '(hardway)');
    expect(missing).toEqual([]);
    expect(Object.keys(EXAMPLES).filter((k) => !tree.some((c) => c.path === k))).toEqual([]);
    for (const [path, lines] of Object.entries(EXAMPLES)) for (const l of lines) expect(l, path).toContain(`hardway ${path}`.trim());
  });

  it('the examples are in the help text', async () => {
    const r = await runCli('member', 'remove', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Examples:\n  $ hardway member remove controller-2\n  $ hardway member remove controller-2 --yes --json');
  });

  it('numbers as defaults are shown as numbers, -i with HARDWAY_INVENTORY', async () => {
    for (const { path, cmd } of await all()) {
      const help = cmd.helpInformation();
      expect(help, path).not.toMatch(/default: "\d+"/);
    }
    const r = await runCli('member', 'replace', '--help');
    expect(r.out).toMatch(/--wait <seconds> +how long the new member may take to catch up and be\s+healthy \(default: 60\)/);
    expect(r.out).toMatch(/-i, --inventory <file> +inventory file \(default: "\.\/inventory\.yaml", env:\s+HARDWAY_INVENTORY\)/);
  });
});

describe('-i on every command', () => {
  it('every command that runs accepts -i/--inventory, with HARDWAY_INVENTORY as its default', async () => {
    for (const { path, cmd } of await all()) {
      if (cmd.commands.length && path !== 'pki' && path !== 'leader') continue;
      const o = cmd.options.find((x) => x.long === '--inventory');
      expect(o?.short, path || '(hardway)').toBe('-i');
      if (path !== 'lint-unit') expect(o?.envVar, path).toBe('HARDWAY_INVENTORY');
    }
  });

  it('snapshot status FILE -i inv is accepted; HARDWAY_INVENTORY is read when -i is not given', async () => {
    expect((await parsed('snapshot status', ['snapshot', 'status', 'a.db', '-i', 'inv.yaml'])).args).toEqual(['a.db']);
    process.env.HARDWAY_INVENTORY = '/from/env.yaml';
    try {
      expect((await parsed('verify', ['verify'])).opts.inventory).toBe('/from/env.yaml');
      expect((await parsed('verify', ['verify', '-i', 'given.yaml'])).opts.inventory).toBe('given.yaml');
    } finally {
      delete process.env.HARDWAY_INVENTORY;
    }
    expect((await parsed('verify', ['verify'])).opts.inventory).toBe('./inventory.yaml');
  });

  it('an option given before a subcommand reaches it (leader -i x move, pki -i x check)', async () => {
    expect((await parsed('leader move', ['leader', 'move', 'controller-1', '-i', 'a.yaml', '--json'])).opts).toMatchObject({ inventory: 'a.yaml', json: true });
    expect((await parsed('leader move', ['leader', '-i', 'b.yaml', 'move'])).opts).toMatchObject({ inventory: 'b.yaml' });
    expect((await parsed('pki check', ['pki', '-i', 'c.yaml', 'check'])).opts).toMatchObject({ inventory: 'c.yaml' });
    expect((await parsed('leader', ['leader', '-i', 'd.yaml', '--json'])).opts).toMatchObject({ inventory: 'd.yaml', json: true });
  });
});

describe('hardway etcdctl passes what it does not own through', () => {
  it('etcdctl options before --, in their order, hardway its own wherever they are', async () => {
    expect(await parsed('etcdctl', ['etcdctl', '-i', 'inv.yaml', 'endpoint', 'status', '-w', 'table'])).toMatchObject({ args: [['endpoint', 'status', '-w', 'table']], opts: { inventory: 'inv.yaml' } });
    expect((await parsed('etcdctl', ['etcdctl', '-w', 'json', 'get', '/a', '--prefix', '--node', 'controller-1'])).args).toEqual([['-w', 'json', 'get', '/a', '--prefix']]);
    expect((await parsed('etcdctl', ['etcdctl', 'get', '--prefix', '--keys-only', '/registry/'])).args).toEqual([['get', '--prefix', '--keys-only', '/registry/']]);
    expect((await parsed('etcdctl', ['etcdctl', '--write-out=table', 'member', 'list'])).args).toEqual([['--write-out=table', 'member', 'list']]);
  });

  it('with -- and without options as before', async () => {
    expect(await parsed('etcdctl', ['etcdctl', '--node', 'controller-1', '--', 'get', '/a', '--prefix'])).toMatchObject({ args: [['get', '/a', '--prefix']], opts: { node: 'controller-1' } });
    expect((await parsed('etcdctl', ['etcdctl', 'member', 'list'])).args).toEqual([['member', 'list']]);
  });
});
