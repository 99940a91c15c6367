import { describe, expect, it } from 'vitest';
import { createRaster } from '../../src/data/raster';
import { encodePng } from '../../src/data/png';
import { readEvalExport } from '../../src/eval/export-reader';
import type { ChatReply, ChatRequest, LoadedModel } from '../../src/worker/api';
import { memoryKv } from '../../src/worker/cache/kv';
import { EvaluationJob } from '../../src/worker/jobs/evaluate';
import { readMmeFolder } from '../../src/worker/jobs/evaluate-mme';
import { headline } from '../../src/worker/jobs/evaluate-store';

const MODEL: LoadedModel = { id: 'webvlm-tiny', engine: 'native', dtype: 'f32', device: 'native', contextLength: 256, imageSize: 64, loadMs: 1 };
const PNG = encodePng(createRaster(4, 4, [10, 200, 10]));
const readPng = async () => PNG.slice().buffer;

const textOf = (r: ChatRequest): string => (r.messages[0]?.content[0] as { text: string }).text;

/** A job whose model answers from `answer(prompt)`; `asked` keeps every request. */
function job(answer: (prompt: string) => string) {
  const asked: ChatRequest[] = [];
  const reply = (text: string): ChatReply => ({ text, finishReason: 'stop', promptTokens: 1, newTokens: 1, reusedPositions: 0, ttftMs: 0, tokensPerSecond: 0, encodeMs: 0, peakGpuBytes: 0 });
  const j = new EvaluationJob({ chat: async (r) => (asked.push(r), reply(answer(textOf(r)))), stopChat: () => false, loaded: () => MODEL, store: memoryKv() });
  return { job: j, asked };
}

describe('MME-style yes/no from a folder', () => {
  const files = [
    { name: 'MME/color/questions_answers_YN/a.txt', text: 'Is the car red?\tYes\nIs the car blue?\tNo\n' },
    { name: 'MME/color/questions_answers_YN/b.txt', text: 'Is the sky green?\tYes\r\nIs the sky grey?\tNo\r\n' },
    { name: 'MME/count/c.txt', text: 'Are there two cats?\tYes\nAre there three cats?\tNo' },
    { name: 'MME/count/gone.txt', text: 'Is there a dog?\tYes\nIs there no dog?\tNo' },
  ];
  const images = ['MME/color/images/a.jpg', 'MME/color/images/b.png', 'MME/count/c.jpg', 'MME/count/c.txt.bak'];

  it('reads both layouts, keeps each image with its subtask and lists the .txt without an image', () => {
    const r = readMmeFolder(files, images);
    expect(r.questions.map((q) => [q.subtask, q.image, q.label])).toEqual([
      ['color', 'MME/color/images/a.jpg', 'yes'],
      ['color', 'MME/color/images/a.jpg', 'no'],
      ['color', 'MME/color/images/b.png', 'yes'],
      ['color', 'MME/color/images/b.png', 'no'],
      ['count', 'MME/count/c.jpg', 'yes'],
      ['count', 'MME/count/c.jpg', 'no'],
    ]);
    expect(r.missing).toEqual(['MME/count/gone.*']);
    expect(r.skipped).toBe(2);
  });

  it('scores acc, acc+ and 100 x (acc + acc+) per subtask and their total, from a table of answers', async () => {
    const table: Record<string, string> = { 'Is the car red?': 'Yes, it is.', 'Is the car blue?': 'No', 'Is the sky green?': 'yes', 'Is the sky grey?': 'yes', 'Are there two cats?': 'I cannot tell', 'Are there three cats?': 'no' };
    const { job: j, asked } = job((p) => table[p] ?? '');
    const r = await j.run({ benchmark: 'mme', questionFiles: files, imageNames: images }, readPng);
    expect(asked).toHaveLength(6);
    // color: 3 of 4 right; image a both right, b not: acc 0.75, acc+ 0.5. count: 1 of 2, no image both right.
    expect(r.results['color']).toEqual({ n: 4, metric: 'mme', score: 125, mme: { images: 2, accuracy: 0.75, accuracyPlus: 0.5 } });
    expect(r.results['count']).toEqual({ n: 2, metric: 'mme', score: 50, mme: { images: 1, accuracy: 0.5, accuracyPlus: 0 } });
    expect(r.results['MME total']).toEqual({ n: 6, metric: 'mme', score: 175 });
    expect(r.records.map((x) => x.parsed)).toEqual(['yes', 'no', 'yes', 'yes', 'other', 'no']);
    expect(r.skipped).toBe(2);
    const back = readEvalExport(r.json);
    expect(back.results['color']?.mme).toEqual({ images: 2, accuracy: 0.75, accuracyPlus: 0.5 });
    expect(back.samples[0]).toMatchObject({ metric: 'mme', target: 'yes', filtered_resps: ['yes'] });
    // The kept run's headline is MME's total (175), not a mean of the subtasks and the total.
    expect(headline(r.results)).toEqual({ metric: 'mme', value: 175 });
  });

  it('names the file, the line and why for a bad .txt line, and says so when no image matches', async () => {
    const { job: j, asked } = job(() => 'yes');
    const bad = [{ name: 'MME/color/a.txt', text: 'Is it red?\tYes\nIs it blue?\tMaybe\n' }];
    await expect(j.run({ benchmark: 'mme', questionFiles: bad, imageNames: ['MME/color/a.jpg'] }, readPng)).rejects.toMatchObject({ code: 'bad-input', message: 'MME/color/a.txt, line 2: the answer must be Yes or No, found "Maybe"' });
    const noTab = [{ name: 'MME/color/a.txt', text: 'Is it red? Yes\n' }];
    await expect(j.run({ benchmark: 'mme', questionFiles: noTab, imageNames: ['MME/color/a.jpg'] }, readPng)).rejects.toMatchObject({ message: expect.stringMatching(/^MME\/color\/a\.txt, line 1: expected/) });
    await expect(j.run({ benchmark: 'mme', questionFiles: files, imageNames: ['x.jpg'] }, readPng)).rejects.toMatchObject({ message: expect.stringContaining('nothing was run') });
    await expect(j.run({ benchmark: 'mme', questionFiles: [{ name: 'a.txt', text: 'Q?\tYes' }], imageNames: ['a.jpg'] }, readPng)).rejects.toMatchObject({ message: expect.stringContaining('a.txt: a question file must sit in a subtask folder') });
    expect(asked).toHaveLength(0);
  });
});

const B64 = Buffer.from(PNG).toString('base64');
const TSV = [
  'index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\timage',
  `1\tWhat colour is the square?\tnan\tred\tgreen\tblue\t\tB\tcolour\t${B64}`,
  `2\tHow many squares?\tLook closely.\tone\ttwo\t\t\tA\tcount\t1`,
  `3\t"Which shape, ""roughly""?"\t\tcircle\tsquare\tstar\ttriangle\tB\tcount\t${B64}`,
].join('\n');

describe('multiple choice by CircularEval from a TSV', () => {
  it('asks each rotation, right only if every rotation picks the right option, per category and overall', async () => {
    // Always names the option "green" or "one" by text (right every time); for the shape it says "A" (right once in four).
    const { job: j, asked } = job((p) => (p.includes('colour') ? 'green' : p.includes('many') ? 'one.' : 'A'));
    const r = await j.run({ benchmark: 'choice', data: { name: 'mmb.tsv', text: TSV }, imageNames: [] }, readPng);
    expect(asked).toHaveLength(3 + 2 + 4);
    expect(textOf(asked[3] as ChatRequest)).toBe("Look closely.\nHow many squares?\nA. one\nB. two\nAnswer with the option's letter from the given choices directly.");
    expect(textOf(asked[5] as ChatRequest).startsWith('Which shape, "roughly"?\nA. circle')).toBe(true);
    expect(r.results).toEqual({ all: { n: 3, metric: 'circular_eval', score: 2 / 3 }, colour: { n: 1, metric: 'circular_eval', score: 1 }, count: { n: 2, metric: 'circular_eval', score: 0.5 } });
    const shape = r.records.filter((x) => String(x.questionId).startsWith('3#'));
    expect(shape.map((x) => [x.parsed, x.truth, x.correct])).toEqual([['A', 'B', false], ['A', 'A', true], ['A', 'D', false], ['A', 'C', false]]);
    const img = asked[3]?.images[0];
    expect(img && 'bytes' in img && img.type).toBe('image/png');
    expect(readEvalExport(r.json).results['all']?.metric).toBe('circular_eval');
  });

  it('reads image_path against the picked files and names a bad line', async () => {
    const { job: j } = job(() => 'B');
    const paths = 'index\tquestion\tA\tB\tanswer\timage_path\n7\tIs it?\tno\tyes\tB\timgs/q7.png\n8\tIs it?\tno\tyes\tB\timgs/gone.png\n';
    const r = await j.run({ benchmark: 'choice', data: { name: 'p.tsv', text: paths }, imageNames: ['folder/q7.png'] }, readPng);
    expect(r.results['mmbench']).toEqual({ n: 1, metric: 'circular_eval', score: 0 });
    expect(r.missingImages).toEqual(['imgs/gone.png']);
    const badAnswer = 'index\tquestion\tA\tB\tanswer\timage\n1\tQ?\tx\ty\tB\tAAAA\n2\tQ?\tx\ty\tE\tAAAA\n';
    await expect(j.run({ benchmark: 'choice', data: { name: 'b.tsv', text: badAnswer }, imageNames: [] }, readPng)).rejects.toMatchObject({ code: 'bad-input', message: 'b.tsv, line 3: the answer must be one of the letters A..B, found "E"' });
    const short = 'index\tquestion\tA\tB\tanswer\timage\n1\tQ?\tx\tB\tAAAA\n';
    await expect(j.run({ benchmark: 'choice', data: { name: 's.tsv', text: short }, imageNames: [] }, readPng)).rejects.toMatchObject({ message: 's.tsv, line 2: 5 fields, the header has 6' });
    await expect(j.run({ benchmark: 'choice', data: { name: 'h.tsv', text: 'id\tq\n' }, imageNames: [] }, readPng)).rejects.toMatchObject({ message: expect.stringContaining('h.tsv, line 1: the header has no "index" column') });
  });
});

describe('VQAv2 soft accuracy on a LLaVA JSON with several answers', () => {
  it('reaches the scorer with the record\'s answers when vqa_accuracy is picked', async () => {
    const ten = (a: string, n: number, b: string) => [...Array<string>(n).fill(a), ...Array<string>(10 - n).fill(b)];
    const data = JSON.stringify([
      { id: 'q1', image: 'a.png', answers: ten('two', 2, 'three'), conversations: [{ from: 'human', value: '<image>\nHow many?' }, { from: 'gpt', value: 'three' }] },
      { id: 'q2', image: 'a.png', answers: ten('red', 5, 'maroon'), conversations: [{ from: 'human', value: '<image>\nWhat colour?' }, { from: 'gpt', value: 'red' }] },
      { id: 'q3', image: 'a.png', conversations: [{ from: 'human', value: '<image>\nShape?' }, { from: 'gpt', value: 'square' }] },
    ]);
    const { job: j } = job((p) => (p.includes('many') ? 'Two.' : p.includes('colour') ? 'red' : 'a square'));
    const r = await j.run({ benchmark: 'llava', data: { name: 'v.json', text: data }, imageNames: ['a.png'], metric: 'vqa_accuracy' }, readPng);
    // "Two." reads as "2", as do the humans' "two": 2 of 10 agree, and vqaEval's average over the ten leave-one-out sets of min(agreeing / 3, 1) is 0.6; "red": 5 agree -> 1; "a square" against the gold "square" alone -> 1.
    expect(r.records.map((x) => x.parsed)).toEqual(['2', 'red', 'square']);
    expect(r.records[1]?.score).toBe(1);
    expect(r.records[2]?.score).toBe(1);
    expect(r.records[0]?.score).toBeCloseTo(0.6, 10);
    const { job: plain } = job(() => 'Two.');
    const byTask = await plain.run({ benchmark: 'llava', data: { name: 'v.json', text: data }, imageNames: ['a.png'] }, readPng);
    expect(byTask.results['llava']?.metric).toBe('exact_match');
    await expect(plain.run({ benchmark: 'llava', data: { name: 'v.json', text: '[{"id":"x","answers":[],"conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}]' }, imageNames: [] }, readPng)).rejects.toMatchObject({ message: expect.stringContaining('answers must be a non-empty array of strings') });
  });
});
