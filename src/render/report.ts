import { color } from '../output.js';
import type { LintProblem } from './lint.js';
import { splitLines } from './unit-parse.js';

/**
 * Problems for people: `file:line:col: error: message — fix: …`, each followed by the line it is about
 * (the file may not exist, e.g. a rendered unit that was not written because of its errors).
 */
export function formatProblemsReport(problems: readonly LintProblem[], text: string): string {
  const lines = splitLines(text);
  const width = String(lines.length).length;
  const out: string[] = [];
  for (const p of problems) {
    const where = `${p.file}:${p.line}${p.col !== undefined ? `:${p.col}` : ''}`;
    const sev = p.severity === 'error' ? color.red('error') : color.yellow('warning');
    out.push(`${where}: ${sev}: ${p.message}`);
    const src = lines[p.line - 1];
    if (src !== undefined && src.trim() !== '') out.push(color.dim(`  ${String(p.line).padStart(width)} | ${src}`));
    out.push(`  ${color.cyan('fix:')} ${p.fix}`);
  }
  return out.join('\n');
}

export function countProblems(problems: readonly LintProblem[]): { errors: number; warnings: number } {
  const errors = problems.filter((p) => p.severity === 'error').length;
  return { errors, warnings: problems.length - errors };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
