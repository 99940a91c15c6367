/**
 * Same numbers in both worlds: the in-browser eval (evalQuestions on the
 * native engine, here in Node through Dawn) asks the questions PyTorch's
 * eval asked, gives the same answer text to every one, and scores each task
 * with the numbers eval.py's Tally printed. The fixture is PyTorch's answers
 * file, written (seed fixed before either side ran) by
 *
 *   npm run eval:tiny -- --seed 31 --count 42 \
 *     --tasks pope-random,pope-popular,pope-adversarial,vqa-colour,vqa-shape,vqa-count,grounding \
 *     --answers test/fixtures/eval-parity.json
 *
 * Regenerate it only with the bundled model: a re-export changes the answers.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSplit } from '../../src/data/split';
import type { TaskName } from '../../src/data/tasks/registry';
import { DEFAULT_TASK_OPTIONS } from '../../src/data/tasks/types';
import { evalQuestions, firstQuestion } from '../../src/worker/jobs/eval-questions';
import { ModelSession } from '../../src/worker/jobs/model-session';
import type { EvalQuestionsReply } from '../../src/worker/api';
import { testRuntime } from '../helpers/gpu';
import { bundledModelFiles } from '../models/fs-files';

interface AnswersFile {
  format: number;
  seed: number;
  count: number;
  tasks: string[];
  scores: Record<string, { n: number; metric: string; score: number }>;
  questions: { id: string; turn: number; task: string; prompt: string; answer: string; gold: string }[];
}

const PYTORCH = JSON.parse(readFileSync(new URL('../fixtures/eval-parity.json', import.meta.url), 'utf8')) as AnswersFile;
const REQUEST = { seed: PYTORCH.seed, count: PYTORCH.count, tasks: PYTORCH.tasks };

/** eval.py rounds every score to 4 places before writing it. */
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

let session: ModelSession;
let reply: EvalQuestionsReply;

beforeAll(async () => {
  session = new ModelSession(testRuntime);
  await session.load('webvlm-tiny', { engine: 'native' }, bundledModelFiles());
}, 60_000);

afterAll(async () => {
  await session.unload();
});

describe('the in-browser eval against PyTorch on the same split', () => {
  it('reads an answers file of the layout it knows, one question per record', () => {
    expect(PYTORCH.format).toBe(1);
    // evalQuestions asks each record's first question; eval.py asks every turn. The tasks here have one turn each.
    expect(PYTORCH.questions.filter((q) => q.turn !== 0)).toEqual([]);
  });

  it('generates the questions eval.py asked, in its order', () => {
    const samples = [...generateSplit({ ...DEFAULT_TASK_OPTIONS, ...REQUEST, tasks: REQUEST.tasks as TaskName[] })];
    const mine = samples.map((s) => {
      const { messages, expected } = firstQuestion(s);
      const text = (messages[0]?.content as { text?: string }[])[0]?.text ?? '';
      return { id: s.id, task: s.task, prompt: text, gold: expected };
    });
    expect(mine).toEqual(PYTORCH.questions.map(({ id, task, prompt, gold }) => ({ id, task, prompt, gold })));
  });

  it('the native engine answers every question as PyTorch did and scores every task alike', async () => {
    const t0 = performance.now();
    reply = await evalQuestions(session, REQUEST);
    const seconds = (performance.now() - t0) / 1000;
    expect(reply.results.map((r) => r.id)).toEqual(PYTORCH.questions.map((q) => q.id));
    const differing = reply.results.flatMap((r, i) => {
      const q = PYTORCH.questions[i];
      return q && r.answer !== q.answer ? [`${r.id}: native "${r.answer}", PyTorch "${q.answer}"`] : [];
    });
    for (const [task, s] of Object.entries(reply.scores)) {
      const p = PYTORCH.scores[task];
      console.log(`${task.padEnd(17)} n=${s.n} ${s.metric.padEnd(11)} native ${s.score.toFixed(4)}  PyTorch ${p?.score.toFixed(4)}`);
    }
    console.log(`${reply.results.length} questions in ${seconds.toFixed(0)} s, ${differing.length} answers differ`);
    expect(differing, differing.join('\n')).toEqual([]);
    expect(Object.keys(reply.scores)).toEqual(Object.keys(PYTORCH.scores));
    for (const [task, s] of Object.entries(reply.scores)) {
      expect({ task, n: s.n, metric: s.metric, score: round4(s.score) }).toEqual({ task, ...PYTORCH.scores[task] });
    }
  }, 300_000);
});
