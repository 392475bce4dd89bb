/**
 * "Did you mean …?" for names typed by hand: node names, inventory keys. One measure for all of them: the optimal
 * string alignment distance (Damerau–Levenshtein without editing a substring twice), as commander uses for commands
 * and flags, so a misspelt node name is treated like a misspelt flag.
 */

/** Edits (insert, delete, substitute, swap two neighbours) between a and b. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d[i] = [i];
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** At most this many edits, and at least 40 % of the word kept: what commander accepts as "similar". */
const MAX_DISTANCE = 3;
const MIN_SIMILARITY = 0.4;

/**
 * The candidates closest to `word` (all of those at the smallest distance, in the candidates' order), or none when
 * no candidate is close enough. A case-only difference counts as the closest there is; a word
 * that is a candidate itself gets none.
 */
export function similar(word: string, candidates: readonly string[]): string[] {
  if (candidates.includes(word)) return [];
  let best = Infinity;
  let found: string[] = [];
  for (const c of new Set(candidates)) {
    const dist = c.toLowerCase() === word.toLowerCase() ? 0.5 : editDistance(word, c);
    const length = Math.max(word.length, c.length);
    if (dist > MAX_DISTANCE || (length - dist) / length <= MIN_SIMILARITY) continue;
    if (dist < best) [best, found] = [dist, [c]];
    else if (dist === best) found.push(c);
  }
  return found;
}

/** `did you mean 'x'?`, `did you mean 'x' or 'y'?`, or undefined when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const found = similar(word, candidates);
  if (!found.length) return undefined;
  const quoted = found.map((c) => `'${c}'`);
  const list = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : quoted[0];
  return `did you mean ${list}?`;
}

/** `what` followed by `: did you mean 'x'?` when a candidate is close, then ` (list)`: the shape of every "no such name" message. */
export function unknownName(what: string, word: string, candidates: readonly string[], list: string): string {
  const hint = didYouMean(word, candidates);
  return `${what}${hint ? `: ${hint}` : ''} (${list})`;
}
