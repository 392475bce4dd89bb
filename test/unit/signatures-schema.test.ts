import { describe, expect, it } from 'vitest';

// The catalog's schema (and the severities) are built when the module loads: the module is imported inside the
// first test of this file, the one a mutation tool credits with reading them, so that test checks every rule.
describe("the signature catalog's rules", () => {
  it('refuses each malformed signature with the rule it breaks; compiles a resolvedBy as a signature of its own', async () => {
    const { compileCatalog, SEVERITIES } = await import('../../src/journal/signatures.js');
    expect(SEVERITIES).toEqual(['error', 'warning', 'info']);
    const base = { id: 'X-1', severity: 'error', title: 'x', sources: ['etcd'], pattern34: ['a'], patternJson: [{ msg: 'a' }], meaning: 'm', fix: 'f' };
    const compiles = (over: Record<string, unknown>) => compileCatalog({ signatures: [{ ...base, ...over }] });

    // An id: capitals, a dash, capitals or digits, at most one lowercase letter at the end; nothing before or after.
    for (const id of ['X-1', 'DISK-01', 'RAFT-2b', 'AB-C3']) expect(() => compiles({ id }), id).not.toThrow();
    for (const id of ['x-1', 'aX-1', 'X-1ab', 'X-1!', 'X1', 'X-']) expect(() => compiles({ id }), id).toThrow(/^signature catalog: signatures\.0\.id: /);
    // One source at least, both allowed.
    expect(() => compiles({ sources: ['etcd', 'systemd'] })).not.toThrow();
    expect(() => compiles({ sources: [] })).toThrow(/^signature catalog: signatures\.0\.sources: /);
    // The refinements, each with its own words.
    expect(() => compiles({ patternJson: [{ fields: {} }] })).toThrow('signature catalog: signatures.0.patternJson.0: a JSON pattern needs msg or fields');
    expect(() => compiles({ patternJson: null })).toThrow('signature catalog: signatures.0: a signature without a 3.4 or a JSON form needs a note saying why');
    expect(() => compiles({ derived: 'elections' })).toThrow('signature catalog: signatures.0: only derived signatures (and all of them) have no pattern at all');

    // resolvedBy: compiled as `<id>/resolved`, with its own patterns and no resolvedBy of its own; none without one.
    const resolvedBy = { pattern34: ['peer (?<peer>\\w+) became active'], patternJson: [{ msg: 'became active', capture: { peer: 'peer-id' } }] };
    const [plain, resolved] = compileCatalog({ signatures: [base, { ...base, id: 'X-2', resolvedBy }] });
    expect('resolver' in plain!).toBe(false);
    const r = resolved!.resolver!;
    expect([r.id, r.resolvedBy, r.title, r.re34.map((re) => re.source), r.reJson.map((p) => p.msg?.source)]).toEqual(['X-2/resolved', undefined, 'x', [resolvedBy.pattern34[0]], ['became active']]);
    expect(resolved!.re34.map((re) => re.source)).toEqual(['a']);
    expect(() => compileCatalog({ signatures: [{ ...base, resolvedBy: { ...resolvedBy, pattern34: ['('] } }] })).toThrow(/bad regex in X-1\.resolvedBy\.pattern34\[0\]/);
  });
});
