/**
 * How hardway writes a duration in seconds, in two styles:
 * - 'finding' (journal evidence and cluster findings: up to a millisecond's precision, no space): 1.235s, 312.5ms;
 * - 'figure' (measured latencies and recommended timings, about three significant digits): 1.2 s, 3.8 ms, 13 ms.
 */
export type SecondsStyle = 'finding' | 'figure';

export function formatSeconds(s: number, style: SecondsStyle = 'finding'): string {
  const ms = s * 1000;
  if (style === 'finding') return s >= 1 ? `${Number(s.toFixed(3))}s` : `${Number(ms.toFixed(1))}ms`;
  if (s >= 1) return `${Number(s.toFixed(2))} s`;
  return `${Number(ms.toFixed(ms >= 10 ? 0 : ms >= 1 ? 1 : 2))} ms`;
}
