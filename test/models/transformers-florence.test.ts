import { Florence2Processor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImagePixels } from '../../src/models/image-processing';
import { florencePostProcess } from '../../src/models/transformers/florence';
import { florenceTaskText } from '../../src/models/transformers/prompt-inputs';
import type { TransformersVlm } from '../../src/models/transformers/transformers-vlm';
import { loadFixtureVlm, readGolden, readPixels } from '../helpers/family-golden';

// Florence-2's post-processing as the engine calls it, on transformers.js' own processor
// code (no Florence-2 checkpoint is here, so the processor gets only what it reads).
const processor = new Florence2Processor(
  {},
  {
    image_processor: {
      config: { tasks_answer_post_processing_type: { '<OD>': 'description_with_bboxes', '<OCR_WITH_REGION>': 'ocr', '<CAPTION>': 'pure_text' } },
    },
  } as never,
  null,
);

describe('Florence-2 answers in image pixels', () => {
  const wide = { width: 1000, height: 500 };

  it('scales box bins by width for x and height for y (bin centres)', () => {
    const r = florencePostProcess(processor, 'car<loc_100><loc_200><loc_300><loc_400>dog<loc_0><loc_0><loc_999><loc_999>', '<OD>', wide);
    expect(r.labels).toEqual(['car', 'dog']);
    expect(r.bboxes).toEqual([
      [100.5, 100.25, 300.5, 200.25],
      [0.5, 0.25, 999.5, 499.75],
    ]);
  });

  it('reads OCR regions as quads and plain tasks as text', () => {
    const r = florencePostProcess(processor, 'EXIT<loc_0><loc_0><loc_100><loc_0><loc_100><loc_100><loc_0><loc_100>', '<OCR_WITH_REGION>', wide);
    expect(r.labels).toEqual(['EXIT']);
    expect(r.quad_boxes).toEqual([[0.5, 0.25, 100.5, 0.25, 100.5, 50.25, 0.5, 50.25]]);
    expect(florencePostProcess(processor, 'A red car.', '<CAPTION>', wide)).toEqual({ text: 'A red car.' });
  });
});

describe('Florence-2 task prompts', () => {
  it("take the last user message's text, its input stripped as HF strips it", () => {
    const ask = (text: string) => florenceTaskText([{ role: 'user', content: [{ type: 'image' }, { type: 'text', text }] }]);
    expect(ask('<CAPTION_TO_PHRASE_GROUNDING> a red square ')).toBe('<CAPTION_TO_PHRASE_GROUNDING>a red square');
    expect(ask(' <OD> ')).toBe('<OD>');
    expect(ask('What is this?')).toBe('What is this?');
    expect(florenceTaskText([{ role: 'user', content: '<CAPTION>' }, { role: 'assistant', content: 'a square' }, { role: 'user', content: '<OCR>' }])).toBe('<OCR>');
  });
});

// The tiny random Florence-2 fixture (hub layout, PyTorch goldens) through the engine.
const REPO = 'microsoft-tiny-florence2';
interface FlorenceCase {
  text: string;
  task: string;
  max_new_tokens: number;
  /** decoder start, forced <s>, the answer, </s>. */
  sequence: number[];
  post_processed: { image_size: [number, number]; result: Record<string, unknown> }[];
}
const florence = readGolden<{ image: { file: string }; cases: FlorenceCase[] }>(REPO);

describe('transformers engine on the tiny Florence-2 fixture', () => {
  let tvlm: TransformersVlm;
  let image: ImagePixels;

  beforeAll(async () => {
    image = readPixels(REPO, florence.image.file);
    tvlm = await loadFixtureVlm(REPO);
  }, 60_000);
  afterAll(() => tvlm?.dispose());

  it.each(florence.cases.map((c) => [c.task, c] as const))('%s: the golden ids, and boxes or quads in pixels as PyTorch post-processes them', async (_task, want) => {
    let streamed = '';
    const r = await tvlm.chat([{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: want.text }] }], [image], { maxNewTokens: want.max_new_tokens }, (p) => (streamed += p));
    expect(r.ids).toEqual(want.sequence.slice(1, -1));
    expect(r.finishReason).toBe('stop');
    expect(streamed).toBe(r.text);
    for (const { image_size: [width, height], result } of want.post_processed) {
      const got = florencePostProcess(tvlm.processor, r.text, want.task, { width, height });
      const expected = result[want.task];
      expect(got, `${width} x ${height}`).toEqual(typeof expected === 'string' ? { text: expected } : expected);
    }
  });

  it('says each task is read afresh: Florence-2 has no conversation to continue', async () => {
    const ask = (text: string) => tvlm.chat([{ role: 'user', content: [{ type: 'image' }, { type: 'text', text }] }], [image], { maxNewTokens: 4 });
    await tvlm.reset();
    expect((await ask('<CAPTION>')).promptRecomputed).toBe(false);
    const second = await ask('<OD>');
    expect(second).toMatchObject({ reusedPositions: 0, promptRecomputed: true });
    expect(second.recomputeReason).toMatch(/Florence-2 reads every task afresh/);
  });
});
