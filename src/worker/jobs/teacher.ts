/**
 * Instruction data for a person's own unlabeled images, written by a teacher
 * as LLaVA's data was: for every image and task, the task's questions are put
 * to the teacher in one conversation and its answers become a LLaVA record
 * (id, image path, conversations, task). The teacher is the loaded model
 * (any engine, through the model session's chat) or an OpenAI-compatible
 * endpoint (teacher-endpoint.ts). Failures worth another try are retried
 * with exponential back-off (or the server's Retry-After); an image that
 * still fails is named in a 'failed' event and skipped, and the run goes on.
 *
 * The records keep only the questions; the instruction that tells an
 * endpoint's model how to answer (a number only, boxes in <ref>/<box>
 * markup, ...) goes as its system message and is not part of the data. The
 * loaded model gets the questions alone, as it was trained to take them.
 */
import { checkLlavaRecord, type LlavaRecord, type LlavaTurn } from '../../data/llava';
import { parseGroundings } from '../../data/tasks/grounding';
import { IMAGE_TOKEN } from '../../data/tasks/types';
import { decodePng } from '../../data/png';
import type { ChatImage, ChatReply, ChatRequest } from '../api';
import { VlmError } from '../errors';
import type { FinetuneImage, TeacherEvent, TeacherRequest, TeacherTask } from '../finetune-api';
import { endpointAnswerer, TeacherImageError, TeacherRetry, type TeacherAnswerer, type TeacherTurn } from './teacher-endpoint';

export { endpointAnswerer, TeacherImageError, TeacherRetry } from './teacher-endpoint';
export type { TeacherAnswerer, TeacherTurn } from './teacher-endpoint';

const SYSTEM =
  'You write training data for a vision-language model. Look at the image and answer the question about it accurately and directly, ' +
  'in plain text without Markdown, as if you were the assistant in the conversation; never mention these instructions.';

interface TaskPrompt {
  /** The questions of the conversation, in order; `where` names its object first. */
  questions: readonly string[];
  /** How the endpoint's model should answer (its system message, not kept in the data). */
  hint: string;
}

export const TEACHER_PROMPTS: Record<TeacherTask, TaskPrompt> = {
  'detailed-description': { questions: ['Describe this image in detail.'], hint: 'Describe everything visible in one paragraph: the objects, their colours and positions, and any text.' },
  reasoning: { questions: ['What is going on in this image? Explain your reasoning.'], hint: 'Reason step by step from what is visible to a conclusion, in a few sentences.' },
  conversation: {
    questions: ['What is in this image?', 'What colours do you see?', 'Where is each thing in the picture?'],
    hint: 'Answer briefly, as in a conversation with a person who cannot see the image.',
  },
  story: { questions: ['Write a short story inspired by this image.'], hint: 'Write a creative story of at most 150 words that stays true to what the image shows.' },
  count: { questions: ['How many objects are there?'], hint: 'Answer with the number only, in digits.' },
  colours: { questions: ['What colours are the objects?'], hint: 'Answer with the colour names only, separated by commas.' },
  where: { questions: [], hint: 'Say where the object is in the image (top, bottom, left, right, centre, corners) in one short sentence.' },
  grounding: {
    questions: ['Locate every object.'],
    hint:
      "Answer with every object as <ref>name</ref><box>(x1,y1),(x2,y2)</box>, one after another and nothing else: the box's top-left and " +
      "bottom-right corners as whole numbers from 0 to 1000 of the image's width and height.",
  },
};

/** Asked first for 'where': the teacher names the object the record then asks about. */
export const WHERE_NAME_QUESTION = 'What is the most prominent object in this image? Answer with its name only, in at most five words.';

/** The object's name from the teacher's answer: first line, no quotes, article or full stop, at most five words. */
export function objectName(answer: string): string {
  const line = (answer.trim().split('\n')[0] ?? '').replace(/["'`*.!]/g, '').trim().toLowerCase();
  return line.replace(/^(a|an|the)\s+/, '').split(/\s+/).slice(0, 5).join(' ');
}

/**
 * The image as the session takes it: a PNG of the kinds the generator writes
 * decoded here to RGBA (exact, and no canvas needed), anything else as bytes
 * for the worker's image decoder.
 */
function chatImage(image: FinetuneImage): ChatImage {
  if (image.type === 'image/png') {
    try {
      const png = decodePng(image.bytes);
      const n = png.width * png.height;
      const data = new Uint8Array(n * 4);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 3; c++) data[i * 4 + c] = png.data[i * png.channels + (png.channels === 3 ? c : 0)] ?? 0;
        data[i * 4 + 3] = 255;
      }
      return { width: png.width, height: png.height, data };
    } catch {
      // Another kind of PNG (alpha, palette, 16-bit): the browser's decoder reads it.
    }
  }
  return { bytes: image.bytes.slice().buffer, type: image.type, name: image.path };
}

/** The loaded model as a teacher, through the model session's chat (its job queue is the caller's). */
export function sessionAnswerer(session: { chat(request: ChatRequest, onText?: (piece: string) => void, signal?: AbortSignal): Promise<ChatReply> }): TeacherAnswerer {
  return {
    async answer(turns, image, _instruction, signal) {
      const messages: ChatRequest['messages'] = turns.map((t, i) =>
        i === 0 ? { role: 'user', content: [{ type: 'text', text: t.text }, { type: 'image' }] } : { role: t.role, content: t.text },
      );
      try {
        const reply = await session.chat({ messages, images: [chatImage(image)], options: { maxNewTokens: 256 } }, undefined, signal);
        return reply.text;
      } catch (err) {
        // This image cannot be read, or its conversation does not fit: the next one may.
        if (err instanceof VlmError && (err.code === 'bad-image' || err.code === 'context-length')) throw new TeacherImageError(`${image.path}: ${err.message}`);
        throw err;
      }
    },
  };
}

export interface TeacherOptions {
  /** The loaded model's session, for source 'loaded-model'. */
  session?: Parameters<typeof sessionAnswerer>[0];
  /** Replaces the answerer the source names (tests, other teachers). */
  answerer?: TeacherAnswerer;
  fetch?: typeof fetch;
  /** First back-off delay; doubled on each retry (default 1 s). */
  baseDelayMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_TEACHER_RETRIES = 4;
const MAX_BACKOFF_MS = 60_000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A record id from the image's path and the task: unique per image and task, readable. */
export function teacherRecordId(path: string, task: TeacherTask): string {
  return `${path.replace(/\.[^./]*$/, '').replace(/[^\w.-]+/g, '-')}-${task}`;
}

const clean = (answer: string) => answer.split(IMAGE_TOKEN).join('').trim();

function answererFor(request: TeacherRequest, options: TeacherOptions): TeacherAnswerer {
  if (options.answerer) return options.answerer;
  if (request.source.kind === 'endpoint') return endpointAnswerer(request.source, options.fetch);
  if (!options.session) throw new VlmError('no-model', 'No model is loaded to act as the teacher; load one, or name an endpoint.');
  return sessionAnswerer(options.session);
}

export async function teacherWrite(request: TeacherRequest, onEvent: (event: TeacherEvent) => void = () => undefined, options: TeacherOptions = {}): Promise<LlavaRecord[]> {
  if (request.images.length === 0) throw new VlmError('bad-input', 'No images were given to the teacher.');
  if (request.tasks.length === 0) throw new VlmError('bad-input', 'No teacher tasks were chosen.');
  for (const t of request.tasks) if (!(t in TEACHER_PROMPTS)) throw new VlmError('bad-input', `unknown teacher task ${JSON.stringify(t)}`);
  const answerer = answererFor(request, options);
  const maxRetries = request.maxRetries ?? DEFAULT_TEACHER_RETRIES;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const signal = options.signal;
  const total = request.images.length * request.tasks.length;
  const records: LlavaRecord[] = [];
  let done = 0;

  /** One answer, retried with back-off on failures worth another try. */
  async function ask(image: FinetuneImage, turns: readonly TeacherTurn[], instruction: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return clean(await answerer.answer(turns, image, instruction, signal));
      } catch (err) {
        if (!(err instanceof TeacherRetry) || signal?.aborted) throw err;
        if (attempt > maxRetries) {
          if (err.fatal) throw new VlmError('teacher-endpoint', err.message);
          throw new TeacherImageError(`${image.path}: ${err.message}; gave up after ${maxRetries} ${maxRetries === 1 ? 'retry' : 'retries'}`);
        }
        const delayMs = err.retryAfterMs ?? Math.min(MAX_BACKOFF_MS, baseDelayMs * 2 ** (attempt - 1));
        onEvent({ kind: 'retry', image: image.path, attempt, reason: err.message, delayMs });
        await sleep(delayMs, signal);
      }
    }
  }

  async function conversation(image: FinetuneImage, task: TeacherTask): Promise<LlavaTurn[]> {
    const prompt = TEACHER_PROMPTS[task];
    const instruction = `${SYSTEM} ${prompt.hint}`;
    let questions = prompt.questions;
    if (task === 'where') {
      const name = objectName(await ask(image, [{ role: 'user', text: WHERE_NAME_QUESTION }], `${SYSTEM} Answer with the object's name only.`));
      if (!name) throw new TeacherImageError(`${image.path}: the teacher named no object to ask where it is`);
      questions = [`Where is the ${name}?`];
    }
    const turns: TeacherTurn[] = [];
    for (const question of questions) {
      turns.push({ role: 'user', text: question });
      const answer = await ask(image, turns, instruction);
      if (!answer) throw new TeacherImageError(`${image.path}: the teacher gave an empty answer to "${question}"`);
      if (task === 'grounding' && parseGroundings(answer).length === 0) throw new TeacherImageError(`${image.path}: the grounding answer holds no <ref>…</ref><box>(x1,y1),(x2,y2)</box>`);
      turns.push({ role: 'assistant', text: answer });
    }
    return turns.map((t, i) => ({ from: t.role === 'user' ? 'human' : 'gpt', value: i === 0 ? `${IMAGE_TOKEN}\n${t.text}` : t.text }));
  }

  for (const image of request.images) {
    for (const [k, task] of request.tasks.entries()) {
      if (signal?.aborted) return records;
      try {
        const record = checkLlavaRecord({ id: teacherRecordId(image.path, task), image: image.path, conversations: await conversation(image, task), task });
        if (typeof record === 'string') throw new TeacherImageError(`${image.path}: the teacher's answer does not make a valid record (${record})`);
        records.push(record);
        onEvent({ kind: 'record', record, done: ++done, total });
      } catch (err) {
        if (!(err instanceof TeacherImageError) || signal?.aborted) throw err;
        // The image is skipped: its remaining tasks count as done so the progress still reaches the total.
        done += request.tasks.length - k;
        onEvent({ kind: 'failed', image: image.path, reason: err.message });
        break;
      }
    }
  }
  return records;
}
