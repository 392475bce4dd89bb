import { describe, expect, it } from 'vitest';
import { platformProblem } from '../../src/lab/prereq.js';

// The lab boots nodes with systemd-nspawn, mounts overlays and creates a bridge: Linux and root, or a message
// saying which is missing. The platform and uid are passed in, so each case runs on any host.
describe('lab prerequisites', () => {
  it('asks for root when not root', () => {
    expect(platformProblem('linux', 1000)).toMatch(/needs root.*sudo/);
  });

  it('asks for Linux elsewhere, whoever runs it', () => {
    expect(platformProblem('darwin', 0)).toMatch(/needs Linux \(this is darwin\)/);
    expect(platformProblem('darwin', 1000)).toMatch(/needs Linux \(this is darwin\)/);
  });

  it('is happy as root on Linux', () => {
    expect(platformProblem('linux', 0)).toBeUndefined();
  });
});
