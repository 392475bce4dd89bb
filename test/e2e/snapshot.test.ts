/**
 * `hardway snapshot` on the shared lab (etcd 3.4.23, which restores without --bump-revision): the scenario of
 * snapshot-scenario.ts, with an inventory of its own (restore writes the new token into it), and a restore killed
 * halfway that the next run finishes.
 */
import { beforeAll, expect } from 'vitest';
import { scratchInventory } from './etcd-helpers.js';
import { describeLab, lab, runHardway, sshRun, wipeNode } from './lab-helpers.js';
import { snapshotScenario } from './snapshot-scenario.js';

describeLab('snapshot save | status | list | restore (etcd 3.4)', () => {
  let inventory = '';
  beforeAll(async () => {
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    // snapshots.dir stays the default (./snapshots beside this copy): its mode is part of what is checked.
    inventory = await scratchInventory(() => {});
    const r = await runHardway(['up', '-i', inventory]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });

  snapshotScenario({
    label: '3.4',
    ssh: (i, cmd) => sshRun(i, cmd, { timeoutMs: 120_000 }),
    addresses: () => lab().nodes.map((n) => n.address),
    inventory: () => inventory,
    bump: false,
    killHalfway: true,
  });
});
