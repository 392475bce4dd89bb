import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The import graph of src/, read with the TypeScript compiler's own pre-processor, against the layers dependencies
 * run through, top to bottom (a file may import its own folder and any lower layer):
 *
 *   top        commands/, cli.ts, completion.ts, help-examples.ts: options, printing, exit codes
 *   flows      provision, members, snapshot, keys, verify, doctor, tune, recover, upgrade, certs, init, lab
 *   knowledge  etcd (etcdctl/etcdutl, the only place that builds their command lines), node (one host's facts),
 *              journal (etcd's logs), cluster (the whole cluster's condition), release (etcd releases, fetched and
 *              cached here)
 *   base       engine, ssh, inventory, pki, render, and errors.ts, output.ts, processes.ts, suggest.ts
 */
const SRC = path.join(import.meta.dirname, '../../src');

const LAYERS = {
  top: ['commands', 'cli.ts', 'completion.ts', 'help-examples.ts'],
  flows: ['provision', 'members', 'snapshot', 'keys', 'verify', 'doctor', 'tune', 'recover', 'upgrade', 'certs', 'init', 'lab'],
  knowledge: ['etcd', 'node', 'journal', 'cluster', 'release'],
  base: ['engine', 'ssh', 'inventory', 'pki', 'render', 'errors.ts', 'output.ts', 'processes.ts', 'suggest.ts'],
} as const;
const RANK: Record<keyof typeof LAYERS, number> = { top: 3, flows: 2, knowledge: 1, base: 0 };

/**
 * A flow importing another flow, each with why it does, by `from file -> to file` (paths under src/). A flow that
 * runs another flow as one of its steps imports that flow's entry point; shared internals that are still in a flow
 * are listed too, so that the list shows what is left to move below the flows.
 */
const FLOW_TO_FLOW: Record<string, string> = {
  'certs/ops.ts -> provision/up-steps.ts': 'restarts members one at a time with up\'s rolling restart',
  'doctor/cluster.ts -> verify/checks.ts': 'doctor leads with the same checks as verify',
  'members/replace.ts -> provision/apply.ts': 'replace installs the new node as up does',
  'members/replace.ts -> provision/desired.ts': 'replace installs the new node as up does',
  'members/replace.ts -> provision/plan.ts': 'replace installs the new node as up does',
  'members/replace.ts -> provision/prepare.ts': 'replace installs the new node as up does',
  'members/remove.ts -> snapshot/auto.ts': 'a snapshot is taken before a membership change (the snapshot flow as a step)',
  'members/replace.ts -> snapshot/auto.ts': 'a snapshot is taken before a membership change (the snapshot flow as a step)',
  'provision/up-steps.ts -> certs/trust.ts': 'up ships the CA bundle while a CA rotation is under way',
  'provision/up-steps.ts -> snapshot/auto.ts': 'a snapshot is taken before a version change (the snapshot flow as a step)',
  'provision/up-steps.ts -> upgrade/facts.ts': 'up runs the upgrade preflight before a version change',
  'provision/up-steps.ts -> upgrade/preflight.ts': 'up runs the upgrade preflight before a version change',
  'recover/recover.ts -> provision/prepare.ts': 'recover installs the release as up does',
  'recover/recover.ts -> provision/up.ts': 'recover ends by running up (the up flow as a step)',
  'snapshot/restore.ts -> provision/prepare.ts': 'restore installs etcdutl as up does',
  'tune/measure.ts -> doctor/cluster.ts': 'tune measures with the same evidence as doctor',
  'tune/measure.ts -> doctor/gather.ts': 'tune measures with the same evidence as doctor',
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** The layer and the room (folder, or the file for a file at the top of src/) of a path under src/. */
function placeOf(rel: string): { layer: keyof typeof LAYERS; room: string } {
  const room = rel.split('/')[0]!;
  for (const [layer, rooms] of Object.entries(LAYERS) as [keyof typeof LAYERS, readonly string[]][]) if (rooms.includes(room)) return { layer, room };
  throw new Error(`src/${rel}: in no layer (add its folder to LAYERS in test/unit/layers.test.ts)`);
}

const files = tsFiles(SRC).filter((f) => !f.endsWith('.d.ts'));

/** Every relative import (static, `import()` and `export … from`) of every file, as paths under src/. */
const edges = files.flatMap((file) => {
  const from = path.relative(SRC, file);
  return ts
    .preProcessFile(readFileSync(file, 'utf8'), true, true)
    .importedFiles.filter((i) => i.fileName.startsWith('.'))
    .map((i) => ({ from, to: path.relative(SRC, path.resolve(path.dirname(file), i.fileName)).replace(/\.js$/, '.ts') }));
});

describe('the import graph of src/', () => {
  it('reads the imports of every file (the check runs on something)', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(edges.length).toBeGreaterThan(800);
    // A sample the graph must hold: the client's errors are imported by the client.
    expect(edges).toContainEqual({ from: 'etcd/client.ts', to: 'etcd/errors.ts' });
  });

  it('places every file in a layer', () => {
    for (const f of files) expect(() => placeOf(path.relative(SRC, f))).not.toThrow();
  });

  it('no file imports a higher layer', () => {
    const up = edges.filter((e) => RANK[placeOf(e.to).layer] > RANK[placeOf(e.from).layer]).map((e) => `src/${e.from} imports src/${e.to} (${placeOf(e.from).layer} → ${placeOf(e.to).layer})`);
    expect(up).toEqual([]);
  });

  it('no flow imports another flow, but for the listed exceptions, each with its reason', () => {
    const across = edges.filter((e) => placeOf(e.from).layer === 'flows' && placeOf(e.to).layer === 'flows' && placeOf(e.from).room !== placeOf(e.to).room);
    const unlisted = across.map((e) => `${e.from} -> ${e.to}`).filter((k) => !(k in FLOW_TO_FLOW));
    expect(unlisted).toEqual([]);
    // An exception no longer needed is dropped from the list, so that the list stays what is left.
    const used = new Set(across.map((e) => `${e.from} -> ${e.to}`));
    expect(Object.keys(FLOW_TO_FLOW).filter((k) => !used.has(k))).toEqual([]);
    for (const [k, why] of Object.entries(FLOW_TO_FLOW)) expect(why, k).not.toBe('');
  });
});

/**
 * Files outside src/etcd/ that still build or run etcdctl/etcdutl command lines themselves, each with its reason.
 * What is checked: a call of etcd/'s command builders (etcdctlCommand, etcdctlUserCommand), the installed binaries'
 * paths (REMOTE_PATHS.etcdctl / .etcdutl), and string literals holding an `ETCDCTL_…=` assignment or a binary's
 * path. Messages, help and plans name commands bare (`etcdctl member remove …`): words for the user, not run.
 */
const COMMAND_LINES: Record<string, string> = {
  'node/ops.ts': 'reset --purge removes the installed binaries by path',
  'provision/desired.ts': 'up installs the binaries at their paths',
  'render/template.ts': 'the unit text names the binaries\' paths',
};

/** What only a command line holds: an ETCDCTL_* assignment, or the path of a binary (a sentence names it bare). */
const COMMAND_TEXT = /ETCDCTL_[A-Z]+=|\/etcd(ctl|utl)(?=\s)/;

function commandLinesIn(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && /^etcdctl(User)?Command$/.test(n.text) && !ts.isImportSpecifier(n.parent)) found.push(`calls ${n.text}`);
    else if (ts.isPropertyAccessExpression(n) && n.expression.getText(sf) === 'REMOTE_PATHS' && /^etcd(ctl|utl)$/.test(n.name.text)) found.push(`REMOTE_PATHS.${n.name.text}`);
    else if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) && COMMAND_TEXT.test(n.text))
      found.push(`text ${JSON.stringify(n.text.slice(0, 60))}`);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('etcdctl and etcdutl command lines', () => {
  it('are built in src/etcd/ only, but for the listed files, each with its reason', () => {
    const outside = files.filter((f) => !path.relative(SRC, f).startsWith('etcd/'));
    const found = new Map(outside.map((f) => [path.relative(SRC, f), commandLinesIn(f)] as const).filter(([, hits]) => hits.length > 0));
    expect([...found].filter(([f]) => !(f in COMMAND_LINES)).map(([f, hits]) => `src/${f}: ${hits.join('; ')}`)).toEqual([]);
    expect(Object.keys(COMMAND_LINES).filter((f) => !found.has(f))).toEqual([]);
  });

  it('the check finds a command line where there is one', () => {
    expect(commandLinesIn(path.join(SRC, 'etcd/etcdctl.ts'))).toEqual(expect.arrayContaining(['REMOTE_PATHS.etcdctl']));
    expect(commandLinesIn(path.join(SRC, 'etcd/kv.ts'))).toEqual(expect.arrayContaining(['calls etcdctlCommand']));
    expect(commandLinesIn(path.join(SRC, 'etcd/client.ts'))).toEqual(expect.arrayContaining(['calls etcdctlUserCommand']));
    expect(commandLinesIn(path.join(SRC, 'etcd/tools.ts'))).toEqual(expect.arrayContaining(['REMOTE_PATHS.etcdutl', 'text "ETCDCTL_API=3 "']));
  });
});
