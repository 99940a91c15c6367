import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TASK_OPTIONS, encodePng, taskSamples } from '../../src/data';
import { checkLlavaRecord } from '../../src/data/llava';
import type { FinetuneImage, TeacherEvent } from '../../src/worker/finetune-api';
import { ModelSession } from '../../src/worker/jobs/model-session';
import { teacherWrite } from '../../src/worker/jobs/teacher';
import { testRuntime } from '../helpers/gpu';
import { bundledModelFiles } from '../models/fs-files';

let session: ModelSession;

beforeAll(async () => {
  session = new ModelSession(testRuntime);
  await session.load('webvlm-tiny', { engine: 'native' }, bundledModelFiles());
}, 60_000);

afterAll(async () => {
  await session.unload();
});

describe('teacherWrite with the loaded model', () => {
  it('writes records offline through the model session: the bundled model counts and locates the objects of a generated scene', async () => {
    const samples = [...taskSamples('describe', 1, 11, { ...DEFAULT_TASK_OPTIONS, minObjects: 2, maxObjects: 2 })];
    const images: FinetuneImage[] = samples.map((s, i) => ({ path: `scene-${i}.png`, type: 'image/png', bytes: encodePng(s.images[0]?.raster ?? (() => { throw new Error('no image'); })()) }));
    const events: TeacherEvent[] = [];
    const records = await teacherWrite({ images, tasks: ['count', 'grounding'], source: { kind: 'loaded-model' } }, (e) => events.push(e), { session });
    expect(events.filter((e) => e.kind === 'failed')).toEqual([]);
    expect(records.map((r) => r.id)).toEqual(['scene-0-count', 'scene-0-grounding']);
    for (const r of records) expect(checkLlavaRecord(r)).toEqual(r);
    // The model was trained on these questions about such scenes: two objects.
    expect(records.filter((r) => r.task === 'count').map((r) => r.conversations[1]?.value)).toEqual(['2']);
    for (const r of records.filter((x) => x.task === 'grounding')) expect(r.conversations[1]?.value.match(/<ref>/g)).toHaveLength(2);
  });
});
