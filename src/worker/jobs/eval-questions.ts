/**
 * Questions from a freshly seeded synthetic split, answered by the loaded
 * model in the worker and scored by exact match against the generator's
 * answers (as the PyTorch eval does): the in-browser check that an engine
 * answers as well as the model card says.
 */
import { generateSplit } from '../../data/split';
import { DEFAULT_TASK_OPTIONS } from '../../data/tasks/types';
import { isTaskName, type TaskName } from '../../data/tasks/registry';
import type { Sample } from '../../data/tasks/types';
import type { ChatImage, ChatMessage, ChatReply, ChatRequest, EvalQuestionsReply, EvalQuestionsRequest } from '../api';
import { VlmError } from '../errors';
import { RecordScorer } from '../../eval/score-records';
import { HELD_OUT_COLOURS, HELD_OUT_SHAPES } from '../../data/vocabulary';

const IMAGE_LINE = /<image>\n?/g;

/**
 * Room for the longest answer the generator writes: boxes for all five objects
 * of a scene take up to 126 tokens with the bundled tokenizer (a description,
 * 57). A shorter budget cuts a right answer and scores it wrong; generation
 * stops at the end-of-turn token, so the room costs nothing on short answers.
 */
export const EVAL_MAX_NEW_TOKENS = 160;

/** RGB raster to the RGBA the chat API takes. */
export function toChatImage(raster: { width: number; height: number; data: Uint8Array }): ChatImage {
  const rgba = new Uint8ClampedArray(raster.width * raster.height * 4);
  for (let p = 0; p < raster.width * raster.height; p++) {
    rgba.set(raster.data.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = 255;
  }
  return { width: raster.width, height: raster.height, data: rgba };
}

/** The first question of a sample as a chat turn: its text, then one image part per image (the template's order). */
export function firstQuestion(sample: Sample): { messages: ChatMessage[]; expected: string } {
  const [human, gpt] = sample.conversations;
  if (!human || !gpt) throw new Error(`sample ${sample.id} has no question and answer`);
  const text = human.value.replace(IMAGE_LINE, '').trim();
  return {
    messages: [{ role: 'user', content: [{ type: 'text', text }, ...sample.images.map(() => ({ type: 'image' as const }))] }],
    expected: gpt.value.trim(),
  };
}

const CONCEPT_WORDS: readonly string[] = [...HELD_OUT_SHAPES, ...HELD_OUT_COLOURS];

/** Whether a sample's first question or answer names a held-out shape or colour (as words: "star", "stars", "purple"). */
export function namesConcept(sample: Sample): boolean {
  const text = sample.conversations.slice(0, 2).map((t) => t.value.toLowerCase()).join(' ');
  return CONCEPT_WORDS.some((w) => new RegExp(`\\b${w}s?\\b`).test(text));
}

/** `count` questions about the held-out concept from scenes that each hold one ('focus'), in the split's order. */
function conceptSamples(seed: number, count: number, tasks: TaskName[]): Sample[] {
  const out: Sample[] = [];
  // Roughly a third of focus questions name the concept; draw a pool large enough and stop once there are enough.
  for (const sample of generateSplit({ ...DEFAULT_TASK_OPTIONS, heldOut: 'focus', seed, count: count * 12, tasks })) {
    if (namesConcept(sample)) out.push(sample);
    if (out.length === count) return out;
  }
  throw new VlmError('bad-input', `only ${out.length} of ${count} questions about the held-out concept come from tasks ${tasks.join(', ')}; add vqa-colour or vqa-shape`);
}

export async function evalQuestions(api: { chat(request: ChatRequest): Promise<ChatReply> }, request: EvalQuestionsRequest, onProgress?: (done: number, total: number) => void): Promise<EvalQuestionsReply> {
  const tasks = request.tasks ?? ['vqa-colour', 'vqa-shape', 'vqa-count', 'vqa-position'];
  const bad = tasks.filter((t) => !isTaskName(t));
  if (bad.length > 0) throw new VlmError('bad-input', `unknown task(s): ${bad.join(', ')}`);
  if (!Number.isInteger(request.count) || request.count < 1) throw new VlmError('bad-input', `count must be a positive integer, got ${request.count}`);
  const samples = request.concept ? conceptSamples(request.seed, request.count, tasks as TaskName[]) : [...generateSplit({ ...DEFAULT_TASK_OPTIONS, seed: request.seed, count: request.count, tasks: tasks as TaskName[] })];
  const results: EvalQuestionsReply['results'] = [];
  const scorer = new RecordScorer();
  for (const sample of samples) {
    const { messages, expected } = firstQuestion(sample);
    const reply = await api.chat({ messages, images: sample.images.map((i) => toChatImage(i.raster)), options: { maxNewTokens: EVAL_MAX_NEW_TOKENS } });
    const answer = reply.text.trim();
    const { parsed, score } = scorer.add({ task: sample.task, pred: answer, gold: expected });
    const question = (messages[0]?.content as { text?: string }[])[0]?.text ?? '';
    results.push({ id: sample.id, task: sample.task, question, expected, answer, correct: answer === expected, parsed, score });
    onProgress?.(results.length, samples.length);
  }
  return { seed: request.seed, accuracy: results.filter((r) => r.correct).length / results.length, results, scores: scorer.scores() };
}
