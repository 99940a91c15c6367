import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRaster } from '../../src/data/raster';
import { encodePng } from '../../src/data/png';
import { readEvalExport } from '../../src/eval/export-reader';
import type { ChatReply, ChatRequest, EvaluationRequest, LoadedModel } from '../../src/worker/api';
import { memoryKv } from '../../src/worker/cache/kv';
import { VlmError } from '../../src/worker/errors';
import { EvaluationJob } from '../../src/worker/jobs/evaluate';

const MODEL: LoadedModel = { id: 'webvlm-tiny', engine: 'native', dtype: 'f32', device: 'native', contextLength: 256, imageSize: 64, loadMs: 1 };
const RANDOM = readFileSync('public/pope/coco_pope_random.json', 'utf8');
const PNG = encodePng(createRaster(5, 3, [200, 10, 10]));

function reply(text: string): ChatReply {
  return { text, finishReason: 'stop', promptTokens: 1, newTokens: 1, reusedPositions: 0, ttftMs: 0, tokensPerSecond: 0, encodeMs: 0, peakGpuBytes: 0 };
}

/** A job over a scripted model: `answer` sees each request; `loaded` can be switched off mid-run. */
function job(answer: (r: ChatRequest, n: number) => Promise<string> | string, store = memoryKv()) {
  let n = 0;
  const state = { loaded: MODEL as LoadedModel | null, asked: [] as ChatRequest[], store };
  const j = new EvaluationJob({
    chat: async (r) => {
      state.asked.push(r);
      return reply(await answer(r, n++));
    },
    stopChat: () => false,
    loaded: () => state.loaded,
    store: state.store,
  });
  return { job: j, state };
}

const readPng = async () => PNG.slice().buffer;

describe('evaluation job', () => {
  it('scores synthetic POPE per split: always-yes gives recall 1, precision 0.5, yes-ratio 1', async () => {
    const { job: j, state } = job(() => 'Yes, there is.');
    const events: string[] = [];
    const r = await j.run({ benchmark: 'pope-synthetic', seed: 123, images: 1, splits: ['random', 'adversarial'] }, undefined, (e) => events.push(e.type));
    expect(r.records).toHaveLength(12);
    expect(Object.keys(r.results)).toEqual(['pope-adversarial', 'pope-random']);
    for (const s of Object.values(r.results)) expect(s.pope).toMatchObject({ n: 6, tp: 3, fp: 3, tn: 0, fn: 0, recall: 1, precision: 0.5, yesRatio: 1 });
    expect(events).toEqual(['planned', ...Array<string>(12).fill('answered')]);
    const img = state.asked[0]?.images[0];
    expect(img && 'data' in img && img.data.length).toBe(64 * 64 * 4);
    expect(r.stopped).toBeNull();
  });

  it('runs the COCO random file over the images at hand, counts the skipped ones and exports readable JSON', async () => {
    const names = ['val2014/COCO_val2014_000000310196.jpg', 'val2014/COCO_val2014_000000210789.jpg', 'other.png'];
    const { job: j, state } = job((r) => ((r.messages[0]?.content[0] as { text: string }).text.includes('snowboard') ? 'Yes' : 'No, there is not.'));
    const r = await j.run({ benchmark: 'pope-coco', split: 'random', questions: { name: 'coco_pope_random.json', text: RANDOM }, imageNames: names }, readPng);
    const wanted = RANDOM.split('\n').filter((l) => l.includes('000000310196') || l.includes('000000210789')).length;
    expect(r.total).toBe(wanted);
    expect(r.skipped).toBe(3000 - wanted);
    expect(r.missingImages).toHaveLength(498);
    const img = state.asked[0]?.images[0];
    expect(img && 'bytes' in img && img.type).toBe('image/png');
    const back = readEvalExport(r.json);
    expect(back.samples).toHaveLength(wanted);
    expect(back.results['pope-random']?.pope?.n).toBe(wanted);
    expect(back.config['question_file']).toBe('coco_pope_random.json');
    expect(r.csv.split('\r\n')[0]).toBe('doc_id,question_id,task,image,input,response,parsed,target,metric,score');
    expect(await j.last()).toMatchObject({ total: wanted });
  });

  it('refuses a folder with none of the images, and a malformed question file with its line, before asking anything', async () => {
    const { job: j, state } = job(() => 'yes');
    await expect(j.run({ benchmark: 'pope-coco', split: 'random', questions: { name: 'q.json', text: RANDOM }, imageNames: ['cat.jpg'] }, readPng)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringContaining('nothing was run') });
    const bad = `${RANDOM.split('\n')[0]}\n{"question_id": 2, "image": "x.jpg", "text": "Is there?", "label": "maybe"}\n`;
    await expect(j.run({ benchmark: 'pope-coco', split: 'random', questions: { name: 'q.json', text: bad }, imageNames: ['x.jpg'] }, readPng)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/q\.json, line 2: "label"/) });
    await expect(j.run({ benchmark: 'llava', data: { name: 'd.json', text: '[{"id": 3}]' }, imageNames: [] }, readPng)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringContaining('record 0') });
    expect(state.asked).toHaveLength(0);
  });

  it('refuses a second run while one runs, and stops with what was scored', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const { job: j } = job(async (_r, n) => {
      if (n === 2) await gate;
      return 'no';
    });
    const first = j.run({ benchmark: 'pope-synthetic', seed: 5, images: 1, splits: ['random'] });
    await new Promise((r) => setTimeout(r, 10));
    await expect(j.run({ benchmark: 'pope-synthetic', seed: 5, images: 1, splits: ['random'] })).rejects.toMatchObject({ code: 'busy' });
    expect(j.stop()).toBe(true);
    release();
    const r = await first;
    expect(r.stopped?.code).toBe('cancelled');
    expect(r.records).toHaveLength(3);
    expect(j.stop()).toBe(false);
  });

  it('keeps what was scored when the model is unloaded mid-run, and says no-model when none is loaded', async () => {
    const { job: j, state } = job((_r, n) => {
      if (n === 2) throw new VlmError('no-model', 'No model is loaded; load one first.');
      return 'yes';
    });
    const r = await j.run({ benchmark: 'pope-synthetic', seed: 5, images: 1, splits: ['random'] });
    expect(r.stopped?.code).toBe('no-model');
    expect(r.records).toHaveLength(2);
    state.loaded = null;
    await expect(j.run({ benchmark: 'pope-synthetic', seed: 5, images: 1, splits: ['random'] })).rejects.toMatchObject({ code: 'no-model' });
  });

  it('scores a LLaVA file by its task metric, skipping records whose image is missing', async () => {
    const data = JSON.stringify([
      { id: 'a', image: 'images/a.png', task: 'vqa-colour', conversations: [{ from: 'human', value: '<image>\nWhat colour?' }, { from: 'gpt', value: 'red' }] },
      { id: 'b', image: 'images/b.png', task: 'vqa-colour', conversations: [{ from: 'human', value: '<image>\nWhat colour?' }, { from: 'gpt', value: 'blue' }] },
      { id: 'c', image: 'images/gone.png', task: 'vqa-colour', conversations: [{ from: 'human', value: '<image>\nWhat colour?' }, { from: 'gpt', value: 'red' }] },
    ]);
    const { job: j, state } = job(() => 'red');
    const r = await j.run({ benchmark: 'llava', data: { name: 'd.json', text: data }, imageNames: ['a.png', 'b.png'] }, readPng);
    expect(r.results['vqa-colour']).toEqual({ n: 2, metric: 'exact_match', score: 0.5 });
    expect(r.skipped).toBe(1);
    expect(r.missingImages).toEqual(['images/gone.png']);
    expect(state.asked[0]?.messages[0]?.content[0]).toEqual({ type: 'text', text: 'What colour?' });
  });

  it('keeps the last ten runs, newest first, with model, engine and weights, and deletes one', async () => {
    const { job: j } = job(() => 'yes');
    const ids: string[] = [];
    for (let seed = 0; seed < 12; seed++) ids.push((await j.run({ benchmark: 'pope-synthetic', seed, images: 1, splits: ['random'] })).id);
    const runs = await j.list();
    expect(runs.map((r) => r.id)).toEqual(ids.slice(2).reverse());
    expect(runs[0]).toMatchObject({ model: 'webvlm-tiny', engine: 'native', weights: 'f32', answered: 6, total: 6, stopped: false, headline: { metric: 'F1' } });
    expect(await j.get(ids[0] ?? '')).toBeNull();
    expect((await j.get(ids[11] ?? ''))?.config).toMatchObject({ seed: '11', adapter: 'none', weights: 'f32' });
    expect(await j.delete(ids[11] ?? '')).toBe(true);
    expect((await j.last())?.id).toBe(ids[10]);
  });

  it('drops a run kept by the previous store format instead of showing it', async () => {
    const { job: j, state } = job(() => 'yes');
    await state.store.set('last-run', { version: 1, records: [] });
    expect(await j.last()).toBeNull();
    expect(await state.store.get('last-run')).toBeUndefined();
  });

  it('resumes a run a reload cut short after 13 answers and ends with the records of an uninterrupted run', async () => {
    const request: EvaluationRequest = { benchmark: 'pope-synthetic', seed: 77, images: 1, splits: ['random', 'popular', 'adversarial'] };
    // The answer depends on the question only, so both runs are asked the same and answer alike.
    const answer = (r: ChatRequest) => ((r.messages[0]?.content[0] as { text: string }).text.length % 3 === 0 ? 'No.' : 'Yes, there is.');
    const whole = await job(answer).job.run(request);

    const store = memoryKv();
    const cut = job((r, n) => (n === 13 ? new Promise<string>(() => {}) : answer(r)), store);
    void cut.job.run(request);
    await new Promise((r) => setTimeout(r, 50));
    expect(await cut.job.unfinished()).toBeNull();

    // A reload: a new worker over the same IndexedDB.
    const again = job(answer, store);
    expect(await again.job.unfinished()).toMatchObject({ done: 10, total: 18, needsFiles: false });
    const resumed = await again.job.resume([]);
    expect(again.state.asked).toHaveLength(8);
    expect(resumed.records).toEqual(whole.records);
    expect(resumed.results).toEqual(whole.results);
    expect(resumed.total).toBe(18);
    expect(await again.job.unfinished()).toBeNull();
    expect((await again.job.list()).map((r) => r.id)).toEqual([resumed.id]);
  });

  it('resumes only on the model the run was started on, and only when a run was cut short', async () => {
    const store = memoryKv();
    const cut = job((_r, n) => (n === 3 ? new Promise<string>(() => {}) : 'yes'), store);
    void cut.job.run({ benchmark: 'pope-synthetic', seed: 1, images: 1, splits: ['random'] });
    await new Promise((r) => setTimeout(r, 50));
    const other = job(() => 'yes', store);
    other.state.loaded = { ...MODEL, engine: 'onnx' };
    await expect(other.job.resume([])).rejects.toMatchObject({ code: 'bad-input', message: expect.stringContaining('load that model') });
    await expect(job(() => 'yes').job.resume([])).rejects.toMatchObject({ code: 'bad-input', message: expect.stringContaining('no unfinished') });
  });
});
