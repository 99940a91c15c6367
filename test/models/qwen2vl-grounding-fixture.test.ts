import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoProcessor, Qwen2VLForConditionalGeneration } from '@huggingface/transformers';
import type { PreTrainedModel, Processor, Tensor } from '@huggingface/transformers';
import { parseGrounding } from '../../src/models/grounding';
import { MissingDtypeFileError } from '../../src/models/transformers/families';
import { TransformersVlm } from '../../src/models/transformers/transformers-vlm';
import { LOGIT_TOL, expectLogits, type Logits, ids, lastLogits, HUB_DIR, loadFixtureVlm, readGolden, readPixels, readRawImage, readReposFromFixtures, type EngineCase } from '../helpers/family-golden';

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

/**
 * The q8 files (`*_quantized.onnx`: int8 weights, one scale per output channel, read through
 * DequantizeLinear; tools/families/quantize_onnx.py) against PyTorch's fp32 logits. Rounding a
 * weight to int8 moves it by at most half a step, 1/254 of its channel's largest weight; through
 * the decoder's 15 weight matrices and the vision tower's 10 this measured 0.27 on logits up to
 * 13.3 (2%). The bound is 5% of the largest logit, and the greedy ids must be the same: the
 * golden's smallest top-1/top-2 gap is 8.
 */
const Q8_TOL_OF_MAX = 0.05;

describe('the grounding fixture in the dtypes the repo offers (fp32, q8, q4)', () => {
  const files = readdirSync(join(HUB_DIR, REPO, 'onnx')).map((f) => `onnx/${f}`).concat(readdirSync(join(HUB_DIR, REPO)).filter((f) => f.endsWith('.json')));
  const image = () => readPixels(REPO, golden.images[0]?.file ?? '');
  const load = (dtype: 'q8' | 'q4' | 'fp16') => TransformersVlm.load(REPO, { source: { kind: 'local', path: HUB_DIR }, device: 'cpu', dtype, files });

  it('q8: logits within 5% of the largest fp32 logit and the golden answer', async () => {
    const vlm = await load('q8');
    try {
      expect(vlm.info.dtype).toBe('q8');
      const logits = await vlm.nextTokenLogits(golden.messages, [image()]);
      const want = golden.first_logits.values;
      const largest = Math.max(...want.map(Math.abs));
      let worst = 0;
      logits.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (want[i] ?? Number.NaN)))));
      expect(worst).toBeGreaterThan(1e-4); // the q8 files were read, not the fp32 ones
      expect(worst).toBeLessThanOrEqual(Q8_TOL_OF_MAX * largest);
      const r = await vlm.chat(golden.messages, [image()], { maxNewTokens: golden.max_new_tokens });
      expect(r.ids).toEqual(golden.greedy_ids.slice(0, -1));
    } finally {
      await vlm.dispose();
    }
  });

  it('q4 (MatMulNBits, blocks of 32): loads and gives the golden answer', async () => {
    const vlm = await load('q4');
    try {
      const r = await vlm.chat(golden.messages, [image()], { maxNewTokens: golden.max_new_tokens });
      expect(r.ids).toEqual(golden.greedy_ids.slice(0, -1));
    } finally {
      await vlm.dispose();
    }
  });

  it('a dtype the repo lacks names its first missing file and the dtypes present', async () => {
    await expect(load('fp16')).rejects.toThrow(MissingDtypeFileError);
    await expect(load('fp16')).rejects.toThrow(/onnx\/vision_encoder_fp16\.onnx is missing, so dtype fp16 cannot load; this repo has the files for fp32, q8, q4$/);
  });
});
