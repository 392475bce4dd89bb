import { afterEach, describe, expect, it, vi } from 'vitest';
import { platformProblem } from '../../src/lab/prereq.js';

describe('lab prerequisites', () => {
  afterEach(() => vi.restoreAllMocks());

  it('asks for root when not root', () => {
    vi.spyOn(process, 'platform', 'get').mockReturnValue('linux');
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    expect(platformProblem()).toMatch(/needs root.*sudo/);
  });

  it('asks for Linux elsewhere', () => {
    const spy = vi.spyOn(process, 'platform', 'get').mockReturnValue('darwin');
    expect(platformProblem()).toMatch(/needs Linux \(this is darwin\)/);
    spy.mockRestore();
  });

  it('is happy as root on Linux', () => {
    vi.spyOn(process, 'platform', 'get').mockReturnValue('linux');
    vi.spyOn(process, 'getuid').mockReturnValue(0);
    expect(platformProblem()).toBeUndefined();
  });
});
