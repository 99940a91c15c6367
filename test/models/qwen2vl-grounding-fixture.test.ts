import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoProcessor, Qwen2VLForConditionalGeneration } from '@huggingface/transformers';
import type { PreTrainedModel, Processor, Tensor } from '@huggingface/transformers';
import { parseGrounding } from '../../src/models/grounding';
import type { TransformersVlm } from '../../src/models/transformers/transformers-vlm';
import { LOGIT_TOL, expectLogits, type Logits, ids, lastLogits, loadFixtureVlm, readGolden, readPixels, readRawImage, readReposFromFixtures, type EngineCase } from '../helpers/family-golden';

// The tiny Qwen2-VL whose decoder PyTorch trained to answer one grounding question with a
// box (tools/families/qwen2_vl_grounding.py): the ONNX export read by transformers.js must
// give PyTorch's greedy ids, and the answer, parsed as the app parses Qwen2-VL's boxes,
// must name the red square's corners in pixels of the image.
readReposFromFixtures();

const REPO = 'Qwen-tiny-qwen2-vl-grounding';
const IM_END = 338;

interface GroundingGolden extends EngineCase {
  chat_text: string;
  images: { file: string; width: number; height: number }[];
  first_logits: Logits;
  greedy_text_with_markers: string;
  box: { normalised: number[]; scale: number; image: { width: number; height: number }; pixels: number[]; label: string; true_pixels: number[] };
}

const golden = readGolden<GroundingGolden>(REPO);
const size = { width: golden.images[0]?.width ?? 0, height: golden.images[0]?.height ?? 0 };

/** Qwen2-VL's 0..1000 box over the 168 x 84 image: within one unit of the scale (1000 / 84 px) of the true corners. */
const PIXEL_OF_SCALE = Math.max(size.width, size.height) / 1000;

describe('tiny Qwen2-VL grounding fixture', () => {
  let processor: Processor;
  let model: PreTrainedModel;
  let vlm: TransformersVlm;

  beforeAll(async () => {
    processor = await AutoProcessor.from_pretrained(REPO);
    model = await Qwen2VLForConditionalGeneration.from_pretrained(REPO, { dtype: 'fp32', device: 'cpu' });
    vlm = await loadFixtureVlm(REPO);
  }, 60_000);
  afterAll(async () => {
    await model?.dispose();
    await vlm?.dispose();
  });

  it('PyTorch answered with the box markers and the square\'s corners in the 0..1000 scale', () => {
    const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = golden.box.normalised;
    expect(golden.greedy_text_with_markers).toBe(`<|object_ref_start|>red square<|object_ref_end|><|box_start|>(${x1},${y1}),(${x2},${y2})<|box_end|>`);
    expect(golden.greedy_ids.at(-1)).toBe(IM_END);
    golden.box.true_pixels.forEach((v, i) => expect(Math.abs((golden.box.pixels[i] ?? 0) - v)).toBeLessThanOrEqual(PIXEL_OF_SCALE));
  });

  it('transformers.js on the ONNX export: the same prompt ids, first-step logits and greedy ids', async () => {
    const text = processor.apply_chat_template(golden.messages as never, { add_generation_prompt: true }) as string;
    expect(text).toBe(golden.chat_text);
    const inputs = await processor(text, [readRawImage(REPO, golden.images[0]?.file ?? '')]);
    expect(ids(inputs.input_ids as Tensor)).toEqual(golden.input_ids);
    const { logits } = (await model(inputs)) as { logits: Tensor };
    expectLogits(lastLogits(logits), golden.first_logits, LOGIT_TOL);
    const out = (await model.generate({ ...inputs, max_new_tokens: golden.max_new_tokens, do_sample: false })) as Tensor;
    expect(ids(out).slice(golden.input_ids.length)).toEqual(golden.greedy_ids);
  });

  it("the engine's answer keeps the markers, and its box parses to the golden's pixels", async () => {
    const r = await vlm.chat(golden.messages, [readPixels(REPO, golden.images[0]?.file ?? '')], { maxNewTokens: golden.max_new_tokens });
    expect(r.ids).toEqual(golden.greedy_ids.slice(0, -1));
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe(golden.greedy_text_with_markers);
    const boxes = parseGrounding(r.text, size);
    expect(boxes).toHaveLength(1);
    expect(boxes[0]?.label).toBe(golden.box.label);
    expect(boxes[0]?.partial).toBe(false);
    const b = boxes[0]?.box;
    expect([b?.x1, b?.y1, b?.x2, b?.y2].map((v) => Number(v?.toFixed(6)))).toEqual(golden.box.pixels.map((v) => Number(v.toFixed(6))));
  });
});
