/**
 * Multiple choice by MMBench's CircularEval from an MMBench-style TSV
 * (index, question, A, B, C, D..., answer; image as base64 or image_path
 * naming one of the user's files; hint and category optional). Each question
 * is asked once per rotation of its options and is right only if every
 * rotation picks the right option (src/eval/circular-eval.ts).
 */
import { circularEval, optionLetter, readChoice, rotations, type ChoiceQuestion, type Rotation } from '../../eval/circular-eval';
import type { TaskScore } from '../../eval/score-records';
import type { ChatImage } from '../api';
import { VlmError } from '../errors';
import type { ChoiceRequest, EvalTextFile } from './evaluate-group-types';
import type { EvalItem, EvalPlan, ItemScorer } from './evaluate-item';
import { readTsv, TsvError, type TsvRow } from './tsv';

export const CHOICE_ALL = 'all';
const NO_CATEGORY = 'mmbench';

export interface TsvQuestion extends ChoiceQuestion {
  id: string;
  category: string;
  /** Base64 image bytes, or the user's file an image_path names. */
  image: { base64: string } | { path: string };
  line: number;
}

const blank = (s: string | undefined): boolean => s === undefined || s.trim() === '' || s.trim().toLowerCase() === 'nan';

function optionColumns(header: string[]): number[] {
  const cols: number[] = [];
  for (let k = 0; k < 26; k++) {
    const c = header.indexOf(optionLetter(k));
    if (c < 0) break;
    cols.push(c);
  }
  return cols;
}

/** MMBench's prompt puts the hint, when there is one, on the line before the question. */
function questionOf(row: TsvRow, col: (name: string) => number, where: string): string {
  const cell = (name: string) => row.cells[col(name)];
  const question = (cell('question') ?? '').trim();
  if (question === '') throw new VlmError('bad-input', `${where}: the question is empty`);
  const hint = cell('hint');
  return blank(hint) ? question : `${(hint as string).trim()}\n${question}`;
}

function parseRow(row: TsvRow, header: string[], file: EvalTextFile): TsvQuestion {
  const where = `${file.name}, line ${row.line}`;
  if (row.cells.length !== header.length) throw new VlmError('bad-input', `${where}: ${row.cells.length} fields, the header has ${header.length}`);
  const col = (name: string) => header.indexOf(name);
  const question = questionOf(row, col, where);
  const options: string[] = [];
  for (const c of optionColumns(header)) {
    if (blank(row.cells[c])) break;
    options.push((row.cells[c] as string).trim());
  }
  if (options.length < 2) throw new VlmError('bad-input', `${where}: fewer than two options (columns A, B, ...)`);
  const answerCell = (row.cells[col('answer')] ?? '').trim().toUpperCase();
  const answer = answerCell.length === 1 ? answerCell.charCodeAt(0) - 65 : -1;
  if (answer < 0 || answer >= options.length) throw new VlmError('bad-input', `${where}: the answer must be one of the letters ${optionLetter(0)}..${optionLetter(options.length - 1)}, found ${JSON.stringify(answerCell)}`);
  const id = (row.cells[col('index')] ?? '').trim();
  if (id === '') throw new VlmError('bad-input', `${where}: the index is empty`);
  const base64 = col('image') >= 0 ? (row.cells[col('image')] ?? '').trim() : '';
  const path = col('image_path') >= 0 ? (row.cells[col('image_path')] ?? '').trim() : '';
  if (base64 === '' && path === '') throw new VlmError('bad-input', `${where}: no image (an image column of base64, or image_path)`);
  const category = col('category') >= 0 && !blank(row.cells[col('category')]) ? (row.cells[col('category')] as string).trim() : NO_CATEGORY;
  return { id, question, options, answer, category, image: base64 !== '' ? { base64 } : { path }, line: row.line };
}

/** The questions of an MMBench-style TSV; throws naming the file, the line and why. */
export function readChoiceTsv(file: EvalTextFile): TsvQuestion[] {
  let rows: TsvRow[];
  try {
    rows = readTsv(file.text);
  } catch (e) {
    if (e instanceof TsvError) throw new VlmError('bad-input', `${file.name}, line ${e.line}: ${e.reason}`);
    throw e;
  }
  const [head, ...body] = rows;
  const header = head?.cells.map((c) => c.trim()) ?? [];
  for (const need of ['index', 'question', 'answer', 'A', 'B'])
    if (!header.includes(need)) throw new VlmError('bad-input', `${file.name}, line 1: the header has no "${need}" column (MMBench's TSV: index, question, A, B, ..., answer, image or image_path)`);
  if (!header.includes('image') && !header.includes('image_path')) throw new VlmError('bad-input', `${file.name}, line 1: the header has neither an "image" nor an "image_path" column`);
  if (body.length === 0) throw new VlmError('bad-input', `${file.name}: no questions after the header`);
  const questions = body.map((row) => parseRow(row, header, file));
  // VLMEvalKit writes a repeated image once and, in later rows, the index of the row that holds it.
  const byIndex = new Map(questions.map((q) => [q.id, q] as const));
  for (const q of questions) if ('base64' in q.image && q.image.base64.length <= 64 && byIndex.has(q.image.base64)) q.image = (byIndex.get(q.image.base64) as TsvQuestion).image;
  return questions;
}

function base64Bytes(b64: string): ArrayBuffer {
  const s = atob(b64.replace(/\s+/g, ''));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out.buffer;
}

interface Asked {
  question: TsvQuestion;
  rotation: Rotation;
}

/** Each rotation's chosen letter; a question scored by circularEval once all its rotations are answered (a stopped run leaves the rest out). */
export function choiceScorer(asked: ReadonlyMap<string, Asked>): ItemScorer {
  const answers = new Map<string, string[]>();
  return {
    add(item, answer) {
      const a = asked.get(String(item.questionId));
      if (!a) throw new RangeError(`unknown rotation ${String(item.questionId)}`);
      const pick = readChoice(answer, a.rotation.options);
      const got = answers.get(a.question.id) ?? [];
      got[a.rotation.shift] = answer;
      answers.set(a.question.id, got);
      const correct = pick !== null && optionLetter(pick) === a.rotation.answerLetter;
      return { parsed: pick === null ? '' : optionLetter(pick), correct, score: correct ? 1 : 0 };
    },
    scores() {
      const tally = new Map<string, { n: number; right: number }>();
      const questions = new Map([...asked.values()].map((a) => [a.question.id, a.question] as const));
      for (const [id, got] of answers) {
        const q = questions.get(id) as TsvQuestion;
        if (got.filter((x) => x !== undefined).length < q.options.length) continue;
        const right = circularEval(q, got).right ? 1 : 0;
        for (const key of new Set([q.category, CHOICE_ALL])) {
          const t = tally.get(key) ?? { n: 0, right: 0 };
          tally.set(key, { n: t.n + 1, right: t.right + right });
        }
      }
      const out: Record<string, TaskScore> = {};
      for (const key of [...tally.keys()].sort()) {
        const t = tally.get(key) as { n: number; right: number };
        out[key] = { n: t.n, metric: 'circular_eval', score: t.right / t.n };
      }
      return out;
    },
  };
}

const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

/** `image` reads one of the user's files, typed by its bytes; `bytesImage` types given bytes. */
export function choicePlan(r: ChoiceRequest, image: (name: string) => Promise<ChatImage>, bytesImage: (bytes: ArrayBuffer, name: string) => ChatImage): EvalPlan {
  const questions = readChoiceTsv(r.data);
  const byBase = new Map(r.imageNames.map((n) => [baseName(n), n] as const));
  const asked = new Map<string, Asked>();
  const items: EvalItem[] = [];
  const missing = new Set<string>();
  let skipped = 0;
  for (const q of questions) {
    const file = 'path' in q.image ? byBase.get(baseName(q.image.path)) : undefined;
    if ('path' in q.image && file === undefined) {
      missing.add(q.image.path);
      skipped += q.options.length;
      continue;
    }
    const src = q.image;
    const images = async (): Promise<ChatImage[]> => ['base64' in src ? bytesImage(base64Bytes(src.base64), `${q.id}.img`) : await image(file as string)];
    for (const rotation of rotations(q)) {
      const id = `${q.id}#${rotation.shift}`;
      asked.set(id, { question: q, rotation });
      items.push({ questionId: id, task: q.category, image: file ?? '', question: rotation.prompt, messages: [{ role: 'user', content: [{ type: 'text', text: rotation.prompt }, { type: 'image' }] }], truth: rotation.answerLetter, images });
    }
  }
  if (items.length === 0) throw new VlmError('bad-input', `None of the images ${r.data.name} names is among the ${r.imageNames.length} file(s) given; nothing was run.`);
  return { title: `Multiple choice (CircularEval), ${r.data.name}`, config: { benchmark: 'choice', data_file: r.data.name }, items, skipped, missingImages: [...missing], scorer: choiceScorer(asked) };
}
