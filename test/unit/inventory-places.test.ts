import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { inventorySchema } from '../../src/inventory/schema.js';
import { knownKeysAt, validateInventory } from '../../src/inventory/validate.js';

// Where a problem of the inventory is placed (line:col), and which keys "did you mean" offers: each inventory is
// written out here, so the place can be read off the text.
const node = 'nodes:\n  - name: a\n    address: 10.0.0.1\n';
const problems = (yaml: string) => {
  const r = validateInventory(yaml, { file: '/inv/inventory.yaml' });
  return [...r.errors, ...r.warnings].map((p) => `${p.line}:${p.col} ${p.message}`);
};
const BARE_FLAG = "must be a bare flag name such as 'auto-compaction-retention' (no leading '--', spaces or '=')";

describe('where a problem is placed', () => {
  it('a missing key is placed at the start of the mapping that lacks it, after any comment before it', () => {
    expect(problems("# the lab's inventory\n\ncluster:\n  token: x\n")).toEqual(["3:1 nodes: missing required key 'nodes'"]);
    expect(problems('nodes:\n  # one node\n  - name: a\n')).toEqual(["3:5 nodes.0.address: missing required key 'address'"]);
  });

  it('a file that is no mapping is placed where its content starts', () => {
    expect(problems('# not yet written\n\n- a\n')).toEqual(['3:1 the inventory must be a mapping with at least a `nodes:` list']);
  });

  it('a key YAML reads as a number is pointed at itself, wherever it sits in its mapping', () => {
    expect(problems(node + 'etcd:\n  extraFlags:\n    snapshot-count: 5\n    -5: 1\n')).toEqual([`7:5 extraFlags key '-5' ${BARE_FLAG}`]);
    expect(problems('nodes:\n  - name: a\n    address: 10.0.0.1\n    8080: x\n')).toEqual(["4:5 unknown key '8080' (check the spelling; see inventory.example.yaml)"]);
  });

  it('a problem in a node written once and repeated by an alias is placed at the key, then at the alias', () => {
    expect(problems('nodes:\n  - &n\n    name: a\n    address: 10.0.0.1\n    adress: x\n  - *n\n')).toEqual([
      "5:5 unknown key 'adress': did you mean 'address'? (see inventory.example.yaml)",
      "6:5 unknown key 'adress': did you mean 'address'? (see inventory.example.yaml)",
    ]);
  });

  it('a url without its sum is placed at the url key, not at the start of etcd', () => {
    expect(problems(node + 'etcd:\n  version: 3.5.0\n  url: https://example.invalid/e.tgz\n')).toEqual(['6:3 etcd.url needs etcd.sha256 so the download can be verified']);
  });
});

describe("YAML's own problems", () => {
  it("are told in YAML's words, by the first line only: the place is given once, as line:col", () => {
    expect(problems('nodes: [\n')).toEqual(['2:1 YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']);
    expect(problems(node + 'templates: !weird ./t\n')).toEqual(['4:12 YAML: Unresolved tag: !weird']);
  });

  it('a key given twice in one mapping is an error, at the second one: neither silently wins', () => {
    expect(problems('nodes:\n  - name: a\n    address: 10.0.0.1\n    name: b\n')).toEqual(['4:5 YAML: Map keys must be unique']);
  });
});

describe('the keys "did you mean" chooses from', () => {
  it('are those of the mapping at the path: the top level, a section, a node (any index), none past a value', () => {
    expect(knownKeysAt(inventorySchema, [])).toEqual(['cluster', 'etcd', 'pki', 'ssh', 'snapshots', 'templates', 'nodes']);
    expect(knownKeysAt(inventorySchema, ['cluster'])).toEqual(['token', 'initialState']);
    expect(knownKeysAt(inventorySchema, ['nodes', 4])).toEqual(['name', 'address', 'internalIp', 'user', 'port', 'identityFile', 'sudo', 'jumpHost']);
    expect(knownKeysAt(inventorySchema, ['nodes', 'name'])).toEqual([]);
    expect(knownKeysAt(inventorySchema, ['nodes'])).toEqual([]);
    expect(knownKeysAt(inventorySchema, ['colour'])).toEqual([]);
    expect(knownKeysAt(inventorySchema, ['etcd', 'version'])).toEqual([]);
  });

  it('of a union are the keys of every object it allows, each once', () => {
    const either = z.union([z.object({ host: z.string(), port: z.number() }), z.object({ socket: z.string(), port: z.number() }), z.string()]);
    expect(knownKeysAt(z.object({ listen: either.optional() }), ['listen'])).toEqual(['host', 'port', 'socket']);
    expect(knownKeysAt(z.array(either), [0])).toEqual(['host', 'port', 'socket']);
  });

  it('a hint is offered for a key a few edits from one of its own mapping, never from another section', () => {
    expect(problems(node + 'ssh:\n  prot: 22\n')).toEqual(["5:3 unknown key 'prot': did you mean 'port'? (see inventory.example.yaml)"]);
    // `dataDir` is a key of etcd, not of ssh: nothing is offered.
    expect(problems(node + 'ssh:\n  dataDir: /x\n')).toEqual(["5:3 unknown key 'dataDir' (check the spelling; see inventory.example.yaml)"]);
  });
});
