/**
 * Which lines of a page hold a model's answer, so the page can show where the
 * answer came from. The whole answer is looked for first (case, spacing and
 * edge punctuation ignored, whole words only, so "12" does not light up
 * "2012"); when no single line holds it, the lines holding its distinctive
 * words (numbers, and words of three letters or more that are not common
 * function words), each word counted once, the first line that holds it.
 */
const STOP_WORDS = new Set([
  'the', 'and', 'with', 'for', 'are', 'was', 'this', 'that', 'one', 'two', 'three', 'four', 'five', 'rows', 'row',
  'columns', 'column', 'table', 'tables', 'there', 'from', 'its', 'has', 'have', 'not', 'but', 'document', 'date', 'title',
]);

function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Does `haystack` (normalised) contain `needle` (normalised) at word boundaries? */
function containsWords(haystack: string, needle: string): boolean {
  if (needle === '') return false;
  return ` ${haystack} `.includes(` ${needle} `);
}

export interface AnswerLines {
  /** Line indices, ascending. */
  lines: number[];
  /** 'whole': one line holds the whole answer; 'words': lines hold parts of it; 'none': nothing found. */
  match: 'whole' | 'words' | 'none';
}

export function answerLines(answer: string, lines: readonly string[]): AnswerLines {
  const target = normalise(answer);
  const normalised = lines.map(normalise);
  const whole = normalised.flatMap((l, i) => (containsWords(l, target) ? [i] : []));
  if (whole.length > 0) return { lines: whole, match: 'whole' };
  const words = [...new Set(target.split(' '))].filter((w) => /\d/.test(w) || (w.length >= 3 && !STOP_WORDS.has(w)));
  const hits = new Set<number>();
  for (const w of words) {
    const at = normalised.findIndex((l) => containsWords(l, w));
    if (at >= 0) hits.add(at);
  }
  if (hits.size === 0) return { lines: [], match: 'none' };
  return { lines: [...hits].sort((a, b) => a - b), match: 'words' };
}
