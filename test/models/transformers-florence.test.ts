import { Florence2Processor } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { florencePostProcess } from '../../src/models/transformers/florence';
import { florenceTaskText } from '../../src/models/transformers/prompt-inputs';

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
