import { describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.js';

/** `hardway keys`: bad input is exit 2 before anything is read (no inventory, no node is needed to tell). */
describe('hardway keys: usage', () => {
  it.each([
    [['keys', 'list', '--rev', 'abc'], /--rev must be a positive integer \(a revision\), got 'abc'/],
    [['keys', 'list', '/registry/', '--rev', '0'], /--rev must be a positive integer/],
    [['keys', 'get', '/registry/pods/default/x', '--rev', '-3'], /--rev must be a positive integer \(a revision\), got '-3'/],
    [['keys', 'diff', '0'], /REV must be a positive integer \(a revision\), got '0'/],
    [['keys', 'diff', '1.5'], /REV must be a positive integer/],
    [['keys', 'diff', '12', 'now'], /REV2 must be a positive integer/],
    [['keys', 'diff', '12', '5'], /REV2 \(5\) is before REV \(12\)/],
    [['keys', 'get', '/k', '-o', 'yaml'], /argument 'yaml' is invalid\. Allowed choices are summary, decoded, hex, raw/],
    // -o shows the value, --json is the machine output: `-o json` says which of the two to use.
    [['keys', 'get', '/k', '-o', 'json'], /argument 'json' is invalid\. -o shows the value .*the machine output is --json, the decoded structure alone -o decoded/],
    [['keys', 'get'], /missing required argument 'key'/],
    [['keys', 'diff'], /missing required argument 'rev'/],
    [['keys', 'get', ''], /KEY must not be empty/],
  ])('%j is exit 2', async (args, message) => {
    const r = await runCli(...args, '-i', '/nonexistent/inventory.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('lists its five commands', async () => {
    const r = await runCli('keys', '--help');
    expect(r.code).toBe(0);
    for (const c of ['list [options] [prefix]', 'stats [options] [prefix]', 'get [options] <key>', 'diff [options] <rev> [rev2]', 'encryption [options]']) expect(r.out).toContain(c);
  });
});
