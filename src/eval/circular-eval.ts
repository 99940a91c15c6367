/**
 * Multiple choice by MMBench's CircularEval (Liu et al., 2023): a question
 * with N options is asked N times, the options shifted by one place each time
 * and the letters A.. given again in order, and it is right only if every
 * rotation picks the right option. A model that always says "A" scores 0,
 * not 1/N.
 */

export interface ChoiceQuestion {
  id: string | number;
  question: string;
  options: readonly string[];
  /** Index into `options` of the right one. */
  answer: number;
}

export interface Rotation {
  questionId: string | number;
  /** Option i of this rotation is options[(i + shift) % N]. */
  shift: number;
  options: string[];
  /** Letter of the right option in this rotation. */
  answerLetter: string;
  prompt: string;
}

export const optionLetter = (i: number): string => String.fromCharCode(65 + i);

/** LLaVA's MMBench prompt: the question, one "A. option" line each, and the instruction to answer with the letter. */
export function choicePrompt(question: string, options: readonly string[]): string {
  const lines = options.map((o, i) => `${optionLetter(i)}. ${o}`);
  return [question, ...lines, "Answer with the option's letter from the given choices directly."].join('\n');
}

export function rotations(q: ChoiceQuestion): Rotation[] {
  const n = q.options.length;
  if (n < 2 || n > 26) throw new RangeError(`question ${q.id}: ${n} options; CircularEval needs 2..26`);
  if (!Number.isInteger(q.answer) || q.answer < 0 || q.answer >= n) throw new RangeError(`question ${q.id}: answer ${q.answer} is not an option index`);
  return Array.from({ length: n }, (_, shift) => {
    const options = q.options.map((_, i) => q.options[(i + shift) % n] as string);
    return { questionId: q.id, shift, options, answerLetter: optionLetter((q.answer - shift + n) % n), prompt: choicePrompt(q.question, options) };
  });
}

const fold = (s: string): string => s.trim().replace(/[.!]+$/, '').trim().toLowerCase();

/** A letter the answer names: "B", "B.", "(B)", "B) cat", "The answer is B", "Answer: (B)". */
function letterOf(answer: string, count: number): number | null {
  const t = answer.trim();
  const leading = /^\(?([A-Z])(?:\)|[.:]|$)/.exec(t);
  const stated = /(?:[Aa]nswer|[Oo]ption|[Cc]hoice)(?:\s+is)?\s*:?\s*\(?([A-Z])\)?(?![A-Za-z])/.exec(t);
  const letter = (leading ?? stated)?.[1];
  if (letter === undefined) return null;
  const i = letter.charCodeAt(0) - 65;
  return i < count ? i : null;
}

/** The option (index into the options shown) the answer picks, by letter or else by option text; null when it picks none or is ambiguous. */
export function readChoice(answer: string, options: readonly string[]): number | null {
  const byLetter = letterOf(answer, options.length);
  if (byLetter !== null) return byLetter;
  const a = fold(answer);
  if (a === '') return null;
  const exact = options.flatMap((o, i) => (fold(o) === a ? [i] : []));
  if (exact.length === 1) return exact[0] as number;
  const contained = options.flatMap((o, i) => (fold(o) !== '' && a.includes(fold(o)) ? [i] : []));
  return contained.length === 1 ? (contained[0] as number) : null;
}

export interface CircularResult {
  questionId: string | number;
  /** Per rotation, the original option index picked, or null. */
  picks: (number | null)[];
  right: boolean;
}

/** Judges one question from its rotations' answers, given in rotation order (shift 0, 1, ...). */
export function circularEval(q: ChoiceQuestion, answers: readonly string[]): CircularResult {
  const rots = rotations(q);
  if (answers.length !== rots.length) throw new RangeError(`question ${q.id}: ${answers.length} answers for ${rots.length} rotations`);
  const n = q.options.length;
  const picks = rots.map((r, k) => {
    const shown = readChoice(answers[k] as string, r.options);
    return shown === null ? null : (shown + r.shift) % n;
  });
  return { questionId: q.id, picks, right: picks.every((p) => p === q.answer) };
}

/** Share of questions right under CircularEval; 0 for no questions. */
export function circularAccuracy(results: readonly CircularResult[]): number {
  return results.length === 0 ? 0 : results.filter((r) => r.right).length / results.length;
}
