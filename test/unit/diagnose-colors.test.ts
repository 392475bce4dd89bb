import { describe, expect, it } from 'vitest';

// On a terminal, the severity of each finding is in its colour: errors red, warnings yellow (both bold), notes cyan.
// The modules are imported inside the test, with FORCE_COLOR set, so that their colours (chosen when they load) are
// those of a terminal; the tables they build when they load are then read by this test too.
describe('findings on a terminal', () => {
  it('each severity in its colour, in the order error, warning, note; each kind of line with its own words', async () => {
    const saved = { FORCE_COLOR: process.env.FORCE_COLOR, NO_COLOR: process.env.NO_COLOR };
    process.env.FORCE_COLOR = '1';
    delete process.env.NO_COLOR;
    try {
      const { diagnoseJournal, renderFindings } = await import('../../src/journal/diagnose.js');
      const { parseJournal } = await import('../../src/journal/parse.js');
      const f = (id: string, severity: 'error' | 'warning' | 'info') => ({ id, severity, title: id, count: 1, hosts: [], evidence: [], facts: {}, details: [], meaning: '', fix: '' });
      const text = renderFindings([f('N', 'info'), f('W', 'warning'), f('E', 'error')]);
      const bold = (s: string) => `\x1b[1m${s}\x1b[22m`;
      expect(text).toContain(`\x1b[31m${bold('ERROR  ')}\x1b[39m ${bold('E')}`);
      expect(text).toContain(`\x1b[33m${bold('WARNING')}\x1b[39m ${bold('W')}`);
      expect(text).toContain(`\x1b[36mINFO   \x1b[39m ${bold('N')}`);
      expect(text.indexOf(bold('E'))).toBeLessThan(text.indexOf(bold('W')));
      expect(text.indexOf(bold('W'))).toBeLessThan(text.indexOf(bold('N')));
      // A line a describer knows (systemd's restart counter) gets its figures.
      const restarts = diagnoseJournal(parseJournal('Nov 23 10:00:01 c0 systemd[1]: etcd.service: Scheduled restart job, restart counter is at 4.', { year: 2026 }));
      expect(restarts[0]!.facts).toEqual({ restarts: 1, restartCounter: 4 });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
