import { describe, expect, it } from 'vitest';

// The words of the quorum verdicts come from two helpers the module defines when it loads (a count with its noun, a
// list of member names). The module is imported inside the test, not at the top of the file, so that a mutation
// tool knows this test is the one that reads them.
describe('the words of quorum verdicts', () => {
  it('a count takes its noun in the singular only for one; a list of no members reads "none", a member without a name goes by its ID', async () => {
    const { removalVerdict, toleranceLine } = await import('../../src/etcd/quorum.js');
    for (const n of [1, 2, 3]) {
      const noun = (one: string) => (n === 1 ? one : `${one}s`);
      expect(toleranceLine(n, n)).toContain(`${n} ${noun('voting member')} (+${n} ${noun('learner')})`);
    }
    const member = (id: string, name: string, healthy: boolean) => ({ id, name, healthy, isLearner: false });
    const down = [member('a1', 'c1', false), member('a2', '', false)];
    expect(removalVerdict(down, down[0]!).text).toContain('but 0 are (none)');
    const mixed = [member('a0', 'c0', true), member('a1', 'c1', true), member('a2', '', false)];
    expect(removalVerdict(mixed, mixed[0]!).text).toContain(`1 healthy (c1) and 1 not (a2)`);
  });
});
