/**
 * POPE's official question files (public/pope): JSON Lines, one
 * `{"question_id", "image", "text", "label"}` per line, label "yes" or "no".
 * The images are the user's own COCO copy, so questions are matched to the
 * image files at hand and those whose image is missing are skipped, counted
 * and named rather than failing the run.
 */
import type { YesNo } from './pope';

export interface PopeFileQuestion {
  questionId: number | string;
  image: string;
  text: string;
  label: YesNo;
}

/** A line that is not a POPE question; `line` counts from 1, as an editor shows it. */
export class PopeFileError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`POPE question file, line ${line}: ${reason}`);
    this.name = 'PopeFileError';
  }
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** The question on one line, or why it is not one. */
function checkQuestion(value: unknown): PopeFileQuestion | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const o = value as Record<string, unknown>;
  const id = o['question_id'];
  if (!(typeof id === 'number' && Number.isInteger(id)) && !nonEmptyString(id)) return '"question_id" must be an integer or a non-empty string';
  if (!nonEmptyString(o['image'])) return '"image" must be a non-empty string';
  if (!nonEmptyString(o['text'])) return '"text" must be a non-empty string';
  const label = o['label'];
  if (label !== 'yes' && label !== 'no') return `"label" must be "yes" or "no", not ${JSON.stringify(label) ?? 'missing'}`;
  return { questionId: id, image: o['image'], text: o['text'], label };
}

/** Every question of a file; blank lines are skipped; the first bad line throws PopeFileError. */
export function readPopeQuestions(text: string): PopeFileQuestion[] {
  const out: PopeFileQuestion[] = [];
  const seen = new Map<number | string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new PopeFileError(line, `not JSON (${(e as Error).message})`);
    }
    const q = checkQuestion(value);
    if (typeof q === 'string') throw new PopeFileError(line, q);
    const first = seen.get(q.questionId);
    if (first !== undefined) throw new PopeFileError(line, `question_id ${JSON.stringify(q.questionId)} repeats line ${first}`);
    seen.set(q.questionId, line);
    out.push(q);
  });
  if (out.length === 0) throw new PopeFileError(1, 'no questions in the file');
  return out;
}

export interface PopeImageMatch {
  /** The questions whose image is at hand, in file order. */
  runnable: PopeFileQuestion[];
  /** The question file's image name -> the name it was found under (a folder pick gives paths). */
  files: Map<string, string>;
  /** Images the file names that were not given, in file order, each once. */
  missingImages: string[];
  /** Questions left out because their image is missing. */
  skipped: number;
}

/** Base name of a path with / or \ separators: a dropped folder gives "val2014/COCO_val2014_….jpg". */
const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

export function matchPopeImages(questions: readonly PopeFileQuestion[], available: Iterable<string>): PopeImageMatch {
  const byBase = new Map<string, string>();
  for (const name of available) if (!byBase.has(baseName(name))) byBase.set(baseName(name), name);
  const files = new Map<string, string>();
  const missing = new Set<string>();
  const runnable: PopeFileQuestion[] = [];
  for (const q of questions) {
    const found = byBase.get(baseName(q.image));
    if (found === undefined) {
      missing.add(q.image);
      continue;
    }
    files.set(q.image, found);
    runnable.push(q);
  }
  return { runnable, files, missingImages: [...missing], skipped: questions.length - runnable.length };
}
