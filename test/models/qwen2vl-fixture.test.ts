import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AutoProcessor,
  AutoTokenizer,
  Qwen2VLForConditionalGeneration,
  Qwen2VLImageProcessor,
  RawImage,
  cat,
} from '@huggingface/transformers';
import type { PreTrainedModel, Processor, Tensor } from '@huggingface/transformers';
import {
  FEATURE_TOL,
  LOGIT_TOL,
  expectLogits,
  expectPixelCheck,
  expectSummary,
  readReposFromFixtures,
} from '../helpers/family-golden';
import {
  REPO,
  REPO_DIR,
  golden,
  idTensor,
  ids,
  lastLogits,
  positionRows,
  readImage,
  worst,
  type GoldenCase,
} from './qwen2vl-golden';

// The tiny random Qwen2-VL fixture in the hub's layout, written by
// tools/families/qwen2_vl.py with PyTorch's outputs in golden.json, read by
// @huggingface/transformers as it reads the real repo: its own processor
// (smart_resize, patch flattening, chat template, <|image_pad|> expansion), its
// 3D rope index and the onnx-community sessions.
readReposFromFixtures();

const CASES: [string, GoldenCase][] = [
  ['one image (6 x 12 patches)', golden],
  ['two images (6 x 12 and 10 x 6 patches)', golden.two_images],
];

/** No resize happens (the sizes are on the grid): rescale and normalise in f32 on both sides. */
const PIXEL_TOL = 1e-5;
/** Sums over 84,672 or 70,560 values, each within PIXEL_TOL, accumulated in f64. */
const SUM_TOL = 1e-2;
const FEATURE_SUM_TOL = 1e-2;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the processor's outputs are untyped in transformers.js
type Inputs = Record<string, any>;

describe('tiny Qwen2-VL fixture through transformers.js', () => {
  let processor: Processor;
  let model: PreTrainedModel;

  /**
   * transformers.js's Qwen2VLImageProcessor stacks several images as the temporal frames of
   * one (one grid; see the test below), so each image goes through it alone, the patches and
   * grids are concatenated and every <|image_pad|> is expanded here, as HF's processor does.
   */
  async function prepare(want: GoldenCase): Promise<Inputs> {
    const text = processor.apply_chat_template(want.messages as never, { add_generation_prompt: true }) as string;
    const images = want.images.map((i) => readImage(i.file));
    if (images.length === 1) return processor(text, images);
    const imageProcessor = processor.image_processor;
    if (!imageProcessor) throw new Error('the processor has no image processor');
    const parts = await Promise.all(images.map((image) => imageProcessor(image)));
    const grids = parts.map((p) => (p.image_grid_thw as Tensor).tolist()[0] as bigint[]);
    let index = 0;
    const expanded = text.replaceAll('<|image_pad|>', () => {
      const [t = 0n, h = 0n, w = 0n] = grids[index++] ?? [];
      return '<|image_pad|>'.repeat(Number(t * h * w) / 4);
    });
    return {
      ...processor.tokenizer?.(expanded),
      pixel_values: cat(parts.map((p) => p.pixel_values as Tensor), 0),
      image_grid_thw: cat(parts.map((p) => p.image_grid_thw as Tensor), 0),
    };
  }

  beforeAll(async () => {
    processor = await AutoProcessor.from_pretrained(REPO);
    model = await Qwen2VLForConditionalGeneration.from_pretrained(REPO, { dtype: 'fp32', device: 'cpu' });
  }, 60_000);

  it('tokenizes as the Python twin does (Qwen2 split pattern, special tokens whole)', async () => {
    const tok = await AutoTokenizer.from_pretrained(REPO);
    for (const { text, ids: expected } of golden.tokenizer) {
      expect(tok.encode(text), text).toEqual(expected);
      expect(tok.decode(expected), text).toBe(text);
    }
  });

  it('sizes images with smart_resize as HF does, except where the two round differently', () => {
    const imageProcessor = processor.image_processor as unknown as Qwen2VLImageProcessor;
    for (const row of golden.smart_resize.sizes) {
      const image = new RawImage(new Uint8ClampedArray(row.width * row.height * 3), row.width, row.height, 3);
      const [w, h] = imageProcessor.get_resize_output_image_size(image, null as never) as [number, number];
      expect([h, w], `${row.height} x ${row.width}`).toEqual(row.transformers_js);
    }
    // The table holds sizes where HF and transformers.js agree and the ones where they do not:
    // halves (HF rounds to even, JS up) and sides under the factor (HF refuses, JS scales up).
    const differ = golden.smart_resize.sizes.filter((r) => JSON.stringify(r.hf) !== JSON.stringify(r.transformers_js));
    expect(differ.map((r) => [r.height, r.width])).toEqual([[70, 98], [42, 126], [20, 30]]);
  });

  it('reads two images as the two frames of one: one grid, and the processor fails at the second image', async () => {
    const images = golden.two_images.images.map((i) => readImage(i.file));
    const imageProcessor = processor.image_processor;
    if (!imageProcessor) throw new Error('the processor has no image processor');
    const stacked = await imageProcessor(images);
    expect((stacked.image_grid_thw as Tensor).tolist().map((r) => (r as bigint[]).map(Number))).toEqual([
      golden.image_grid_thw[0],
    ]);
    await expect(processor('<|vision_start|><|image_pad|><|vision_end|>'.repeat(2), images)).rejects.toThrow(
      /reduce/,
    );
  });

  it("skips normalisation when preprocessor_config.json leaves the flags out (Qwen/Qwen2-VL-2B-Instruct's own file)", async () => {
    const full = JSON.parse(readFileSync(join(REPO_DIR, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
    const flags = ['do_convert_rgb', 'do_normalize', 'do_rescale', 'do_resize', 'resample', 'rescale_factor', 'size'];
    const minimal = Object.fromEntries(Object.entries(full).filter(([key]) => !flags.includes(key)));
    const image = readImage(golden.images[0]?.file ?? '');
    const range = async (config: Record<string, unknown>): Promise<[number, number]> => {
      const out = await new Qwen2VLImageProcessor(config as never)(image);
      const values = (out.pixel_values as Tensor).data as Float32Array;
      return [values.reduce((a, b) => Math.min(a, b)), values.reduce((a, b) => Math.max(a, b))];
    };
    const [lo, hi] = await range(minimal);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    const [loFull] = await range(full);
    expect(loFull).toBeLessThan(-1);
  });

  describe.each(CASES)('%s', (_name, want) => {
    let inputs: Inputs;

    beforeAll(async () => {
      inputs = await prepare(want);
    });

    it('renders the chat template and expands every image into the same prompt ids', () => {
      const text = processor.apply_chat_template(want.messages as never, { add_generation_prompt: true });
      expect(text).toBe(want.chat_text);
      expect((inputs.image_grid_thw as Tensor).tolist().map((r) => (r as bigint[]).map(Number))).toEqual(
        want.image_grid_thw,
      );
      expect(ids(inputs.input_ids as Tensor)).toEqual(want.input_ids);
    });

    it('gives the same patches (order and values) for each image', () => {
      const pv = inputs.pixel_values as Tensor;
      expect(pv.dims).toEqual(want.pixel_values.shape);
      const data = pv.data as Float32Array;
      const width = pv.dims[1] ?? 0;
      let start = 0;
      want.pixel_values.images.forEach((check, i) => {
        const [t = 0, h = 0, w = 0] = want.image_grid_thw[i] ?? [];
        const end = start + t * h * w * width;
        const stride = want.pixel_values.sample_stride;
        expectPixelCheck(data.subarray(start, end), stride, check, { pixel: PIXEL_TOL, sum: SUM_TOL }, `image ${i}`);
        start = end;
      });
      expect(start).toBe(data.length);
    });

    it('gives the same 3D rope positions and delta', () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- get_rope_index is public in JS but untyped
      const [pos, delta] = (model as any).get_rope_index(inputs.input_ids, inputs.image_grid_thw, null, inputs.attention_mask) as [
        Tensor,
        Tensor,
      ];
      expect(pos.dims).toEqual([3, 1, want.input_ids.length]);
      expect(positionRows(pos, want.input_ids.length)).toEqual(want.position_ids);
      expect(ids(delta)).toEqual([want.rope_delta]);
    });

    it('gives the same image features from the vision session', async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- encode_image is internal and untyped
      const feats = (await (model as any).encode_image(inputs)) as Tensor;
      expectSummary(feats, want.image_features, { value: FEATURE_TOL, sum: FEATURE_SUM_TOL });
    });

    it('gives the same first-step logits', async () => {
      const { logits } = (await model(inputs)) as { logits: Tensor };
      const [, seq = 0, vocab = 0] = logits.dims;
      expect(seq).toBe(want.input_ids.length);
      expect(vocab).toBe(want.first_logits.values.length);
      expectLogits(lastLogits(logits), want.first_logits, LOGIT_TOL);
    });

    it('generates the same greedy ids, stopping where generation_config says', async () => {
      const out = (await model.generate({ ...inputs, max_new_tokens: want.max_new_tokens, do_sample: false })) as Tensor;
      expect(ids(out).slice(want.input_ids.length)).toEqual(want.greedy_ids);
    });
  });

  describe('text only (no image in the conversation)', () => {
    const want = golden.text_only;
    let inputs: Inputs;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the rope helpers are internal and untyped
    let internals: any;

    beforeAll(async () => {
      const text = processor.apply_chat_template(want.messages as never, { add_generation_prompt: true }) as string;
      expect(text).toBe(want.chat_text);
      inputs = await processor(text);
      internals = model;
    });

    it('tokenizes the chat into the same ids and gives the same first-step logits', async () => {
      expect(ids(inputs.input_ids as Tensor)).toEqual(want.input_ids);
      const { logits } = (await model(inputs)) as { logits: Tensor };
      const w = worst(lastLogits(logits), want.first_logits.values);
      expect(w.diff, `logit ${w.index}`).toBeLessThanOrEqual(LOGIT_TOL);
    });

    it('gives the same positions but a rope delta of 2 T where HF has 0, so generate drifts after one token', async () => {
      const t = want.input_ids.length;
      const [pos, delta] = internals.get_rope_index(inputs.input_ids, null, null, inputs.attention_mask) as [Tensor, Tensor];
      expect(positionRows(pos, t)).toEqual(want.position_ids);
      expect(want.rope_delta).toBe(0);
      expect(ids(delta)).toEqual([2 * t]);
      const out = (await model.generate({ ...inputs, max_new_tokens: want.max_new_tokens, do_sample: false })) as Tensor;
      const got = ids(out).slice(t);
      expect(got[0]).toBe(want.greedy_ids[0]);
      expect(got).not.toEqual(want.greedy_ids);
    });

    it('generates the same greedy ids once the text-only rope delta is HF\'s (max position + 1 - T)', async () => {
      const original = internals._get_text_only_rope_index as (ids: Tensor, mask: Tensor) => [Tensor, Tensor];
      internals._get_text_only_rope_index = (inputIds: Tensor, mask: Tensor): [Tensor, Tensor] => {
        const [pos, delta] = original.call(model, inputIds, mask);
        const t = BigInt(inputIds.dims[1] ?? 0);
        return [pos, delta.map((d: bigint) => d - 2n * t)];
      };
      try {
        const out = (await model.generate({ ...inputs, max_new_tokens: want.max_new_tokens, do_sample: false })) as Tensor;
        expect(ids(out).slice(want.input_ids.length)).toEqual(want.greedy_ids);
      } finally {
        internals._get_text_only_rope_index = original;
      }
    });
  });

  describe('second turn (the one-image conversation, its answer, then a question)', () => {
    const want = golden.second_turn;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- generate's dict output and the cache are untyped
    let first: any;
    let image: Inputs;
    let turn2: Inputs;

    beforeAll(async () => {
      image = await processor(golden.chat_text, [readImage(golden.images[0]?.file ?? '')]);
      const tail = processor.tokenizer?.(want.appended_text, { add_special_tokens: false }) as Inputs;
      expect([...golden.input_ids, ...golden.greedy_ids, ...ids(tail.input_ids as Tensor)]).toEqual(want.input_ids);
      const inputIds = idTensor(want.input_ids);
      turn2 = { input_ids: inputIds, attention_mask: idTensor(want.input_ids.map(() => 1)) };
      first = await model.generate({
        ...image,
        max_new_tokens: golden.max_new_tokens,
        do_sample: false,
        return_dict_in_generate: true,
      } as never);
    });

    it('recomputed from the start (image encoded again), gives the same positions, logits and greedy ids', async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- get_rope_index is untyped
      const [pos] = (model as any).get_rope_index(turn2.input_ids, image.image_grid_thw, null, turn2.attention_mask) as [Tensor];
      expect(positionRows(pos, want.input_ids.length)).toEqual(want.position_ids);
      const inputs = { ...turn2, pixel_values: image.pixel_values, image_grid_thw: image.image_grid_thw };
      const { logits } = (await model(inputs)) as { logits: Tensor };
      expect(worst(lastLogits(logits), want.first_logits.values).diff).toBeLessThanOrEqual(LOGIT_TOL);
      const out = (await model.generate({ ...inputs, max_new_tokens: want.max_new_tokens, do_sample: false })) as Tensor;
      expect(ids(out).slice(want.input_ids.length)).toEqual(want.greedy_ids);
    });

    it("reusing the first turn's cache fails as the library ships (it nulls pixel_values, then encodes them)", async () => {
      expect(first.past_key_values.get_seq_length()).toBe(golden.input_ids.length + golden.greedy_ids.length - 1);
      // A cache of its own, so the next test starts from an untouched one.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- generate's dict output is untyped
      const own: any = await model.generate({
        ...image,
        max_new_tokens: golden.max_new_tokens,
        do_sample: false,
        return_dict_in_generate: true,
      } as never);
      const cache = own.past_key_values as unknown;
      await expect(
        model.generate({
          ...turn2,
          image_grid_thw: image.image_grid_thw,
          past_key_values: cache,
          max_new_tokens: want.max_new_tokens,
          do_sample: false,
        } as never),
      ).rejects.toThrow(/Missing the following inputs: pixel_values/);
    });

    it("reusing the first turn's cache gives the same greedy ids once the null pixel_values is dropped", async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- prepare_inputs_for_generation is internal and untyped
      const internals = model as any;
      const original = internals.prepare_inputs_for_generation as (...args: unknown[]) => Inputs;
      internals.prepare_inputs_for_generation = (...args: unknown[]): Inputs => {
        const inputs = original.apply(model, args);
        return inputs.pixel_values === null ? { ...inputs, pixel_values: undefined } : inputs;
      };
      try {
        const out = (await model.generate({
          ...turn2,
          image_grid_thw: image.image_grid_thw,
          past_key_values: first.past_key_values,
          max_new_tokens: want.max_new_tokens,
          do_sample: false,
        } as never)) as Tensor;
        expect(ids(out).slice(want.input_ids.length)).toEqual(want.greedy_ids);
      } finally {
        internals.prepare_inputs_for_generation = original;
      }
    });
  });
});
