import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { RecordScorer } from '../src/eval/score-records';

interface TaskScore {
  n: number;
  metric: string;
  score: number;
}

// PyTorch's scores on the same 20 questions, from
//   npm run eval:tiny -- --seed 7928 --count 20 --tasks vqa-colour,vqa-shape,vqa-count,vqa-position --json e2e/fixtures/pytorch-vqa-seed7928.json
// (seed 7928 = the card's eval seed 9 + 7919, fixed before either side was run).
const PYTORCH = JSON.parse(readFileSync(new URL('./fixtures/pytorch-vqa-seed7928.json', import.meta.url), 'utf8')) as { seed: number; tasks: Record<string, TaskScore> };
const TASKS = ['vqa-colour', 'vqa-shape', 'vqa-count', 'vqa-position'];

test('20 fresh questions answered by the native engine in Chromium score exactly as PyTorch does on them', async ({ page, request }) => {
  test.setTimeout(300_000);
  const card = (await (await request.get('/models/webvlm-tiny/eval.json')).json()) as { seed: number; tasks: Record<string, TaskScore> };
  await page.goto('/#gpu');
  await expect(page.getByTestId('adapter-name')).toContainText('WebGPU:');
  const reply = await page.evaluate(
    async ([s, tasks]) => {
      const api = (window as unknown as { vlm: { loadModel: (id: string, o: object) => Promise<unknown>; evalQuestions: (r: object) => Promise<{ accuracy: number; results: { task: string; expected: string; answer: string; correct: boolean }[] }> } }).vlm;
      await api.loadModel('webvlm-tiny', { engine: 'native' });
      return api.evalQuestions({ seed: s, count: 20, tasks });
    },
    [PYTORCH.seed, TASKS] as const,
  );
  for (const r of reply.results) console.log(`${r.correct ? 'ok  ' : 'MISS'} ${r.task}: expected "${r.expected}", got "${r.answer}"`);
  const cardMean = TASKS.reduce((sum, t) => sum + (card.tasks[t]?.score ?? NaN), 0) / TASKS.length;
  console.log(`native in Chromium: ${(reply.accuracy * 100).toFixed(0)}% on seed ${PYTORCH.seed}; the model card (seed ${card.seed}, ${TASKS.map((t) => card.tasks[t]?.n).join('+')} questions): ${(cardMean * 100).toFixed(1)}%`);
  expect(reply.results).toHaveLength(20);
  for (const task of TASKS) {
    const mine = reply.results.filter((r) => r.task === task);
    const score = mine.filter((r) => r.correct).length / mine.length;
    expect(score, `${task}: native ${score} vs PyTorch ${PYTORCH.tasks[task]?.score}`).toBeCloseTo(PYTORCH.tasks[task]?.score ?? NaN, 6);
  }
});

interface AnswersFile {
  seed: number;
  tasks: string[];
  scores: Record<string, TaskScore>;
  questions: { id: string; task: string; prompt: string; answer: string; gold: string }[];
}

// PyTorch's answers on a fixed split (see test/worker/eval-parity.test.ts for the command). A split's first
// questions of each task are those of any larger split with the same seed and tasks, so a prefix of it is compared.
const PARITY = JSON.parse(readFileSync(new URL('../test/fixtures/eval-parity.json', import.meta.url), 'utf8')) as AnswersFile;
const PARITY_COUNT = 2 * PARITY.tasks.length;

test('the ONNX engine in Chromium answers a prefix of the parity split as PyTorch did, and scores it alike', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/#gpu');
  await expect(page.getByTestId('adapter-name')).toContainText('WebGPU:');
  const reply = await page.evaluate(
    async ([s, count, tasks]) => {
      type Reply = { results: { id: string; question: string; expected: string; answer: string }[]; scores: Record<string, { n: number; metric: string; score: number }> };
      const api = (window as unknown as { vlm: { loadModel: (id: string, o: object) => Promise<unknown>; evalQuestions: (r: object) => Promise<Reply> } }).vlm;
      await api.loadModel('webvlm-tiny', { engine: 'onnx' });
      return api.evalQuestions({ seed: s, count, tasks });
    },
    [PARITY.seed, PARITY_COUNT, PARITY.tasks] as const,
  );
  const byId = new Map(PARITY.questions.map((q) => [q.id, q]));
  const scorer = new RecordScorer();
  const mine = reply.results.map((r) => ({ id: r.id, prompt: r.question, gold: r.expected, answer: r.answer }));
  const theirs = reply.results.map((r) => {
    const q = byId.get(r.id);
    if (q) scorer.add({ task: q.task, pred: q.answer, gold: q.gold });
    return { id: r.id, prompt: q?.prompt, gold: q?.gold, answer: q?.answer };
  });
  console.log(`onnx in Chromium: ${reply.results.length} questions, ${mine.filter((m, i) => m.answer !== theirs[i]?.answer).length} answers differ from PyTorch's`);
  expect(reply.results).toHaveLength(PARITY_COUNT);
  expect(mine).toEqual(theirs);
  expect(reply.scores).toEqual(scorer.scores());
});
