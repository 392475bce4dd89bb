import { describe, expect, it } from 'vitest';
import { colorEnabled, renderTable } from '../../src/output.js';

describe('colour', () => {
  it('colours a terminal only, never a CI log or a pipe', () => {
    expect(colorEnabled({}, true)).toBe(true);
    expect(colorEnabled({ CI: 'true' }, false)).toBe(false);
    expect(colorEnabled({}, false)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colorEnabled({ TERM: 'dumb' }, true)).toBe(false);
    expect(colorEnabled({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colorEnabled({ FORCE_COLOR: '1', NO_COLOR: '1' }, true)).toBe(false);
  });

  it('draws tables without escape codes', () => {
    expect(renderTable(['A', 'B'], [['x', 1]])).not.toMatch(/\u001b\[/);
  });
});
