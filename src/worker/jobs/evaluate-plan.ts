/**
 * What an evaluation asks: the questions of a benchmark as chat turns, each
 * with its truth and a way to get its images, plus the questions left out
 * because their image is not among the user's files. Malformed files and
 * folders without one matching image fail here, before the model runs.
 */
import { generateSplit } from '../../data/split';
import { DEFAULT_TASK_OPTIONS } from '../../data/tasks/types';
import type { TaskName } from '../../data/tasks/registry';
import { LlavaFormatError, readLlavaJson, recordImages, type LlavaRecord } from '../../data/llava';
import { POPE_PER_IMAGE } from '../../data/pope';
import { matchPopeImages, PopeFileError, readPopeQuestions } from '../../eval/pope-file';
import { MIME, sniffFileKind } from '../../documents/file-kind';
import type { ChatImage, ChatMessage } from '../api';
import { VlmError } from '../errors';
import { firstQuestion, toChatImage } from './eval-questions';
import { choicePlan } from './evaluate-choice';
import type { EvalItem, EvalPlan } from './evaluate-item';
import { mmePlan } from './evaluate-mme';
import type { EvalTextFile, EvaluationRequest, ReadImage } from './evaluate-types';

export type { EvalItem, EvalPlan } from './evaluate-item';

const IMAGE_LINE = /<image>\n?/g;

/** Image bytes typed by their first bytes: a COCO folder's ".jpg" may be anything. */
function bytesImage(bytes: ArrayBuffer, name: string): ChatImage {
  const kind = sniffFileKind(new Uint8Array(bytes, 0, Math.min(bytes.byteLength, 1024)));
  return { bytes, type: kind === 'unknown' || kind === 'pdf' ? '' : MIME[kind], name };
}

const userImage = async (read: ReadImage, name: string): Promise<ChatImage> => bytesImage(await read(name), name);

const userTurn = (text: string, images: number): ChatMessage[] => [
  { role: 'user', content: [{ type: 'text', text }, ...Array.from({ length: images }, () => ({ type: 'image' as const }))] },
];

function syntheticPlan(r: Extract<EvaluationRequest, { benchmark: 'pope-synthetic' }>): EvalPlan {
  if (!Number.isInteger(r.images) || r.images < 1) throw new VlmError('bad-input', `the image count must be a whole number >= 1, got ${r.images}`);
  if (r.splits.length === 0) throw new VlmError('bad-input', 'choose at least one POPE split');
  const tasks = r.splits.map((s): TaskName => `pope-${s}`);
  const count = r.images * 2 * POPE_PER_IMAGE * tasks.length;
  const items = [...generateSplit({ ...DEFAULT_TASK_OPTIONS, seed: r.seed, count, tasks })].map((sample): EvalItem => {
    const { messages, expected } = firstQuestion(sample);
    const text = messages[0]?.content[0];
    return {
      questionId: sample.id,
      task: sample.task,
      image: '',
      question: text && typeof text !== 'string' && text.type === 'text' ? text.text : '',
      messages,
      truth: expected,
      images: async () => sample.images.map((i) => toChatImage(i.raster)),
    };
  });
  const config = { benchmark: 'pope-synthetic', seed: String(r.seed), images_per_split: String(r.images), splits: r.splits.join(',') };
  return { title: `Synthetic POPE, seed ${r.seed}, ${r.images} image(s) per split`, config, items, skipped: 0, missingImages: [] };
}

function noImages(file: EvalTextFile, wanted: number, given: number): VlmError {
  return new VlmError('bad-input', `None of the ${wanted} image(s) ${file.name} names is among the ${given} file(s) given; nothing was run. Pick the folder that holds them (for COCO POPE, val2014).`);
}

function cocoPlan(r: Extract<EvaluationRequest, { benchmark: 'pope-coco' }>, read: ReadImage): EvalPlan {
  let questions;
  try {
    questions = readPopeQuestions(r.questions.text);
  } catch (e) {
    if (e instanceof PopeFileError) throw new VlmError('bad-input', `${r.questions.name}, line ${e.line}: ${e.reason}`);
    throw e;
  }
  const match = matchPopeImages(questions, r.imageNames);
  if (match.runnable.length === 0) throw noImages(r.questions, new Set(questions.map((q) => q.image)).size, r.imageNames.length);
  const items = match.runnable.map((q): EvalItem => {
    const file = match.files.get(q.image) ?? q.image;
    return { questionId: q.questionId, task: `pope-${r.split}`, image: file, question: q.text, messages: userTurn(q.text, 1), truth: q.label, images: async () => [await userImage(read, file)] };
  });
  const config = { benchmark: 'pope-coco', split: r.split, question_file: r.questions.name };
  return { title: `COCO POPE, ${r.split} split (${r.questions.name})`, config, items, skipped: match.skipped, missingImages: match.missingImages };
}

const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

function llavaItem(rec: LlavaRecord, files: string[], read: ReadImage): EvalItem {
  const [human, gpt] = rec.conversations;
  const question = (human?.value ?? '').replace(IMAGE_LINE, '').trim();
  return {
    questionId: rec.id,
    task: rec.task ?? 'llava',
    image: files.join(' '),
    question,
    messages: userTurn(question, files.length),
    truth: (gpt?.value ?? '').trim(),
    ...(rec.answers ? { answers: rec.answers } : {}),
    images: () => Promise.all(files.map((f) => userImage(read, f))),
  };
}

function readRecords(data: EvalTextFile): LlavaRecord[] {
  try {
    return readLlavaJson(data.text);
  } catch (e) {
    if (e instanceof LlavaFormatError) throw new VlmError('bad-input', `${data.name}: ${e.message}`);
    throw e;
  }
}

function llavaPlan(r: Extract<EvaluationRequest, { benchmark: 'llava' }>, read: ReadImage): EvalPlan {
  const records = readRecords(r.data);
  const byBase = new Map(r.imageNames.map((n) => [baseName(n), n] as const));
  const missing = new Set<string>();
  const items: EvalItem[] = [];
  for (const rec of records) {
    const wanted = recordImages(rec);
    const files = wanted.map((w) => byBase.get(baseName(w)));
    const absent = wanted.filter((_, i) => files[i] === undefined);
    if (absent.length > 0) absent.forEach((a) => missing.add(a));
    else items.push(llavaItem(rec, files as string[], read));
  }
  if (items.length === 0) throw noImages(r.data, new Set(records.flatMap(recordImages)).size, r.imageNames.length);
  const config = { benchmark: 'llava', data_file: r.data.name, metric: r.metric ?? 'per task' };
  return { title: `LLaVA JSON ${r.data.name}`, config, items, skipped: records.length - items.length, missingImages: [...missing] };
}

export function planEvaluation(request: EvaluationRequest, read: ReadImage | undefined): EvalPlan {
  if (request.benchmark === 'pope-synthetic') return syntheticPlan(request);
  if (!read) throw new VlmError('bad-input', 'the page must pass a way to read the image files');
  if (request.benchmark === 'mme') return mmePlan(request, (name) => userImage(read, name));
  if (request.benchmark === 'choice') return choicePlan(request, (name) => userImage(read, name), bytesImage);
  return request.benchmark === 'pope-coco' ? cocoPlan(request, read) : llavaPlan(request, read);
}
