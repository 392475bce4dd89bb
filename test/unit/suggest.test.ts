import { describe, expect, it } from 'vitest';
import { knownKeysAt, validateInventory } from '../../src/inventory/validate.js';
import { inventorySchema } from '../../src/inventory/schema.js';
import { selectNodes, unknownNodesMessage } from '../../src/inventory/derive.js';
import { nodeNamed } from '../../src/members/resolve.js';
import { didYouMean, editDistance, similar } from '../../src/suggest.js';

const nodes = ['controller-0', 'controller-1', 'controller-2'];

describe('editDistance (optimal string alignment)', () => {
  it('counts insertions, deletions, substitutions and a swap of neighbours as one edit each', () => {
    expect(editDistance('controller-1', 'controller-1')).toBe(0);
    expect(editDistance('controler-1', 'controller-1')).toBe(1);
    expect(editDistance('controlller-1', 'controller-1')).toBe(1);
    expect(editDistance('controller-7', 'controller-1')).toBe(1);
    expect(editDistance('cnotroller-1', 'controller-1')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('similar / didYouMean', () => {
  it('names the closest candidate, all of them when several are as close', () => {
    expect(similar('controler-1', nodes)).toEqual(['controller-1']);
    expect(didYouMean('controller-9', nodes)).toBe("did you mean 'controller-0', 'controller-1' or 'controller-2'?");
    expect(didYouMean('Controller-2', nodes)).toBe("did you mean 'controller-2'?");
  });
  it('says nothing when no candidate is close, or the word is one of them', () => {
    expect(didYouMean('etcd-a', nodes)).toBeUndefined();
    expect(didYouMean('controller-1', nodes)).toBeUndefined();
    expect(didYouMean('ab', ['xy'])).toBeUndefined();
  });
});

const inventory = (names: string[]) => validateInventory(`nodes:\n${names.map((n, i) => `  - name: ${n}\n    address: 10.0.0.${i + 1}\n`).join('')}`, { file: 'inv.yaml', baseDir: '/tmp' }).inventory!;

describe('node names on the command line', () => {
  const inv = inventory(nodes);
  it('NODE: a misspelt name gets a suggestion, and the list of nodes', () => {
    expect(() => nodeNamed(inv, 'controler-1')).toThrow(expect.objectContaining({ exitCode: 2, message: "controler-1 is not in the inventory inv.yaml: did you mean 'controller-1'? (its nodes: controller-0, controller-1, controller-2)" }));
    expect(() => nodeNamed(inv, 'web')).toThrow(expect.objectContaining({ message: 'web is not in the inventory inv.yaml (its nodes: controller-0, controller-1, controller-2)' }));
  });
  it('--nodes: the same suggestion', () => {
    const { unknown } = selectNodes(inv, ['controller-0', 'contrller-2']);
    expect(unknownNodesMessage(inv, unknown)).toBe("--nodes: no node named 'contrller-2' in inv.yaml: did you mean 'controller-2'? (nodes: controller-0, controller-1, controller-2)");
  });
});

describe('unknown inventory keys', () => {
  it('knows the keys of each mapping, inside lists and defaults too', () => {
    expect(knownKeysAt(inventorySchema, [])).toContain('snapshots');
    expect(knownKeysAt(inventorySchema, ['etcd'])).toContain('electionTimeout');
    expect(knownKeysAt(inventorySchema, ['nodes', 2])).toEqual(expect.arrayContaining(['name', 'address', 'internalIp', 'identityFile']));
  });
  it('an unknown key gets a suggestion at file:line:col', () => {
    const r = validateInventory('nodes:\n  - name: a\n    address: 10.0.0.1\nssh:\n  identitFile: ~/.ssh/k\nsnapshot:\n  keep: 3\n', { file: 'inv.yaml', baseDir: '/tmp' });
    expect(r.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`)).toEqual([
      "inv.yaml:5:3: unknown key 'identitFile': did you mean 'identityFile'? (see inventory.example.yaml)",
      "inv.yaml:6:1: unknown key 'snapshot': did you mean 'snapshots'? (see inventory.example.yaml)",
    ]);
  });
  it('a key like none of them keeps the plain message', () => {
    const r = validateInventory('nodes:\n  - name: a\n    address: 10.0.0.1\nflavour: x\n', { file: 'inv.yaml', baseDir: '/tmp' });
    expect(r.errors[0]!.message).toBe("unknown key 'flavour' (check the spelling; see inventory.example.yaml)");
  });
});
