import { describe, expect, it } from 'vitest';
import { colorEnabled, formatBytes, renderColumns, renderTable } from '../../src/output.js';

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

describe('the one table style', () => {
  it('is borderless: the head in capitals, columns two spaces apart, no rule, no trailing blanks', () => {
    const text = renderTable(['name', 'Status', 'n'], [['controller-0', 'started', 1], ['c1', '', 22]]);
    expect(text.split('\n')).toEqual(['NAME          STATUS   N', 'controller-0  started  1', 'c1                     22']);
    expect(text).not.toMatch(/[│─┌┐└┘├┤┼]/);
  });

  it('keeps a cell of several lines in its column', () => {
    expect(renderTable(['A', 'B', 'C'], [['x', 'one\ntwo', 'z']]).split('\n')).toEqual(['A  B    C', 'x  one  z', '   two']);
  });

  it('draws the fast path (100 000-key listings) exactly as the table', () => {
    const head = ['KEY', 'CREATED', 'LEASE', 'SIZE'];
    const rows = [['/registry/pods/default/a', '12', '', '1.2 kB'], ['/b', '123456', '694d8e', '512 B'], ['', '', '', '']];
    expect(renderColumns(head, rows)).toBe(renderTable(head, rows));
    const many = Array.from({ length: 250 }, (_, i) => [`/k/${i}`, String(i), i % 2 ? 'x' : '', formatBytes(i * 997)]);
    expect(renderTable(head, many)).toBe(renderColumns(head, many));
    expect(renderTable(head, many).split('\n')[1]).toBe('/k/0    0               0 B');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [8224, '8.2 kB'],
    [9949, '9.9 kB'],
    [9950, '10 kB'],
    [24_576, '25 kB'],
    [999_499, '999 kB'],
    [999_500, '1.0 MB'],
    [2_500_000, '2.5 MB'],
    [23_000_000, '23 MB'],
    [2 * 1024 ** 3, '2.1 GB'],
    [5e15, '5.0 PB'],
    [-2048, '-2.0 kB'],
  ])('%d bytes: %s', (n, shown) => {
    expect(formatBytes(n)).toBe(shown);
  });

  it('is the formatter every size is printed with: none of the old `0.0 MB`', () => {
    expect(formatBytes(24_000)).toBe('24 kB');
    expect(formatBytes(24_000)).not.toMatch(/MB/);
  });
});
