import { beforeAll, describe, expect, it } from 'vitest';
import { AutoProcessor, AutoTokenizer, Idefics3ForConditionalGeneration } from '@huggingface/transformers';
import type { PreTrainedModel, Processor, RawImage, Tensor } from '@huggingface/transformers';
import {
  FEATURE_TOL,
  LOGIT_TOL,
  expectLogits,
  expectPixelCheck,
  expectSummary,
  ids,
  readReposFromFixtures,
  readRawImage,
} from '../helpers/family-golden';
import { PIXEL_SUM_TOL, PIXEL_TOL, readSmolGolden, smolCases, SMOL_DIR } from '../helpers/smolvlm-golden';

// The tiny random SmolVLM (Idefics3) fixture in the hub's layout, written by
// tools/families/idefics3.py with PyTorch's outputs in golden.json, read by
// @huggingface/transformers as it reads the real repo: its own processor (image
// splitting, prompt expansion, chat template) and the onnx-community sessions.
const REPO = SMOL_DIR;

readReposFromFixtures();

const golden = readSmolGolden();
const CASES = smolCases(golden);

/** Image features are ~10 in size: FEATURE_TOL on each value, sums over 2,304-4,608 of them. */
const FEATURE_SUM_TOL = 1e-2;

function readImage(file: string): RawImage {
  return readRawImage(REPO, file);
}

describe('tiny SmolVLM fixture through transformers.js', () => {
  let processor: Processor;
  let model: PreTrainedModel;

  beforeAll(async () => {
    processor = await AutoProcessor.from_pretrained(REPO);
    model = await Idefics3ForConditionalGeneration.from_pretrained(REPO, { dtype: 'fp32', device: 'cpu' });
  }, 60_000);

  it('tokenizes as the Python twin does', async () => {
    const tok = await AutoTokenizer.from_pretrained(REPO);
    for (const { text, ids: expected } of golden.tokenizer) {
      expect(tok.encode(text), text).toEqual(expected);
      expect(tok.decode(expected), text).toBe(text);
    }
  });

  it('drops the zero tiles that pad a batch, as HF does, in the vision session', async () => {
    // Sample 1 has 9 tiles, sample 2 has 18: the image processor pads sample 1 with 9 zero
    // tiles (mask false) and the graph must encode only the 27 real ones.
    const [wide, tall] = golden.two_images.images.map((i) => readImage(i.file));
    const imageProcessor = processor.image_processor;
    if (!imageProcessor) throw new Error('the processor has no image processor');
    const batch = await imageProcessor([[wide], [wide, tall]] as never);
    expect((batch.pixel_values as Tensor).dims).toEqual([2, 18, 3, 64, 64]);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- encode_image is internal and untyped
    const feats = (await (model as any).encode_image(batch)) as Tensor;
    expect(feats.dims).toEqual([27, ...golden.image_features.shape.slice(1)]);
    let sum = 0;
    for (const v of feats.data as Float32Array) sum += v;
    expect(Math.abs(sum - golden.image_features.sum - golden.two_images.image_features.sum)).toBeLessThanOrEqual(
      2 * FEATURE_SUM_TOL,
    );
  });

  describe.each(CASES)('%s', (_name, want) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the processor's outputs are untyped in transformers.js
    let inputs: Record<string, any>;

    beforeAll(async () => {
      const text = processor.apply_chat_template(want.messages as never, { add_generation_prompt: true }) as string;
      inputs = await processor(text, want.images.map((i) => readImage(i.file)));
    });

    it('renders the chat template and expands every image into the same prompt ids', () => {
      const text = processor.apply_chat_template(want.messages as never, { add_generation_prompt: true });
      expect(text).toBe(want.chat_text);
      expect(inputs.rows).toEqual([want.rows]);
      expect(inputs.cols).toEqual([want.cols]);
      expect(ids(inputs.input_ids as Tensor)).toEqual(want.input_ids);
    });

    it('gives the same pixel values per tile (the crops and each global view)', () => {
      const pv = inputs.pixel_values as Tensor;
      expect(pv.dims).toEqual(want.pixel_values.shape);
      const mask = inputs.pixel_attention_mask as Tensor;
      expect(mask.dims).toEqual([...pv.dims.slice(0, 2), ...pv.dims.slice(3)]);
      expect(Array.from(mask.data as ArrayLike<unknown>).every(Boolean)).toBe(true);
      const data = pv.data as Float32Array;
      const per = pv.dims.slice(2).reduce((a, b) => a * b, 1);
      want.pixel_values.tiles.forEach((check, t) => {
        const tile = data.subarray(t * per, (t + 1) * per);
        expectPixelCheck(tile, want.pixel_values.sample_stride, check, { pixel: PIXEL_TOL, sum: PIXEL_SUM_TOL }, `tile ${t}`);
      });
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
      expectLogits((logits.data as Float32Array).subarray((seq - 1) * vocab, seq * vocab), want.first_logits, LOGIT_TOL);
    });

    it('generates the same greedy ids, stopping where generation_config says', async () => {
      const out = (await model.generate({ ...inputs, max_new_tokens: want.max_new_tokens, do_sample: false })) as Tensor;
      expect(ids(out).slice(want.input_ids.length)).toEqual(want.greedy_ids);
    });
  });
});
