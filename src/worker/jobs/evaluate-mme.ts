/**
 * MME-style yes/no from the user's files in MME's release layout: a folder
 * per subtask holding each image and, per image, a .txt of "question<TAB>Yes"
 * lines (MME gives two per image, one yes and one no). Both layouts of the
 * release are read: `<subtask>/images/x.jpg` with
 * `<subtask>/questions_answers_YN/x.txt`, or `<subtask>/x.jpg` beside
 * `<subtask>/x.txt`. Scored by scoreMme: per subtask accuracy, accuracy+ and
 * 100 x (acc + acc+), and their total.
 */
import { mmeAnswer, scoreMme, type MmeRecord } from '../../eval/mme';
import type { TaskScore } from '../../eval/score-records';
import type { ChatImage } from '../api';
import { VlmError } from '../errors';
import type { EvalItem, EvalPlan, ItemScorer } from './evaluate-item';
import type { EvalTextFile, MmeRequest } from './evaluate-group-types';

export const MME_TOTAL = 'MME total';
const QA_DIR = 'questions_answers_YN';
const IMAGE_DIR = 'images';
const IMAGE_EXT = /\.(jpe?g|png|gif|webp|bmp)$/i;

export interface MmeQuestion {
  subtask: string;
  /** The image file as the page named it. */
  image: string;
  question: string;
  label: 'yes' | 'no';
  /** "<file>:<line>" */
  id: string;
}

const parts = (path: string): string[] => path.split(/[\\/]/).filter((p) => p !== '');
const stem = (name: string): string => name.replace(/\.[^.]*$/, '');

/** The subtask a .txt belongs to and the folder its image sits in, or the reason the path fits neither layout. */
function placeOf(path: string): { subtask: string; imageDir: string } | string {
  const p = parts(path);
  const dirs = p.slice(0, -1);
  if (dirs.at(-1) === QA_DIR) {
    const subtask = dirs.at(-2);
    if (subtask === undefined) return `${QA_DIR} must sit inside a subtask folder`;
    return { subtask, imageDir: [...dirs.slice(0, -1), IMAGE_DIR].join('/') };
  }
  const subtask = dirs.at(-1);
  if (subtask === undefined) return 'a question file must sit in a subtask folder (or its questions_answers_YN folder)';
  return { subtask, imageDir: dirs.join('/') };
}

/** The question lines of one .txt; throws naming the file, the line and why. */
export function readMmeLines(file: EvalTextFile): { question: string; label: 'yes' | 'no'; line: number }[] {
  const out: { question: string; label: 'yes' | 'no'; line: number }[] = [];
  file.text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    const cells = raw.split('\t');
    const where = `${file.name}, line ${i + 1}`;
    if (cells.length !== 2) throw new VlmError('bad-input', `${where}: expected "question<TAB>Yes" or "question<TAB>No", found ${cells.length - 1} tab(s)`);
    const [question, answer] = cells.map((c) => c.trim()) as [string, string];
    const label = answer.toLowerCase();
    if (question === '') throw new VlmError('bad-input', `${where}: the question is empty`);
    if (label !== 'yes' && label !== 'no') throw new VlmError('bad-input', `${where}: the answer must be Yes or No, found ${JSON.stringify(answer)}`);
    out.push({ question, label, line: i + 1 });
  });
  return out;
}

/** Every question whose image is among `imageNames`, and the .txt files whose image is not. */
export function readMmeFolder(files: readonly EvalTextFile[], imageNames: readonly string[]): { questions: MmeQuestion[]; missing: string[]; skipped: number } {
  const images = new Map<string, string>();
  for (const n of imageNames) if (IMAGE_EXT.test(n)) images.set(stem(parts(n).join('/')), n);
  const questions: MmeQuestion[] = [];
  const missing: string[] = [];
  let skipped = 0;
  for (const file of files) {
    const place = placeOf(file.name);
    if (typeof place === 'string') throw new VlmError('bad-input', `${file.name}: ${place}`);
    const lines = readMmeLines(file);
    const image = images.get(`${place.imageDir}/${stem(parts(file.name).at(-1) ?? '')}`);
    if (image === undefined) {
      missing.push(`${place.imageDir}/${stem(parts(file.name).at(-1) ?? '')}.*`);
      skipped += lines.length;
      continue;
    }
    for (const l of lines) questions.push({ subtask: place.subtask, image, question: l.question, label: l.label, id: `${file.name}:${l.line}` });
  }
  return { questions, missing, skipped };
}

/** Yes/no per answer by MME's own rule; the summary per subtask and the total by scoreMme. */
export function mmeScorer(): ItemScorer {
  const answered: MmeRecord[] = [];
  return {
    add(item, answer) {
      const label = item.truth === 'yes' ? 'yes' : 'no';
      answered.push({ subtask: item.task, image: item.image, answer, label });
      const parsed = mmeAnswer(answer);
      const correct = parsed === label;
      return { parsed, correct, score: correct ? 1 : 0 };
    },
    scores() {
      const m = scoreMme(answered);
      const out: Record<string, TaskScore> = {};
      for (const s of m.subtasks) out[s.subtask] = { n: s.questions, metric: 'mme', score: s.score, mme: { images: s.images, accuracy: s.accuracy, accuracyPlus: s.accuracyPlus } };
      if (m.subtasks.length > 0) out[MME_TOTAL] = { n: answered.length, metric: 'mme', score: m.total };
      return out;
    },
  };
}

/** `image` reads one of the user's files, typed by its bytes. */
export function mmePlan(r: MmeRequest, image: (name: string) => Promise<ChatImage>): EvalPlan {
  if (r.questionFiles.length === 0) throw new VlmError('bad-input', 'No .txt question files among the chosen files; pick an MME folder (a folder per subtask with images and "question<TAB>Yes|No" files).');
  const { questions, missing, skipped } = readMmeFolder(r.questionFiles, r.imageNames);
  if (questions.length === 0) throw new VlmError('bad-input', `None of the ${r.questionFiles.length} question file(s) has its image beside it (or in the subtask's images folder); nothing was run.`);
  const items = questions.map(
    (q): EvalItem => ({
      questionId: q.id,
      task: q.subtask,
      image: q.image,
      question: q.question,
      messages: [{ role: 'user', content: [{ type: 'text', text: q.question }, { type: 'image' }] }],
      truth: q.label,
      images: async () => [await image(q.image)],
    }),
  );
  const subtasks = [...new Set(questions.map((q) => q.subtask))];
  return { title: `MME-style yes/no, ${subtasks.length} subtask(s)`, config: { benchmark: 'mme', subtasks: subtasks.join(',') }, items, skipped, missingImages: missing, scorer: mmeScorer() };
}
