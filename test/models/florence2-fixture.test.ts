import { beforeAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, Florence2ForConditionalGeneration, Florence2Processor } from '@huggingface/transformers';
import type { PreTrainedModel, Tensor } from '@huggingface/transformers';
import {
  FEATURE_TOL,
  LOGIT_TOL,
  expectLogits,
  expectPixelCheck,
  expectSummary,
  idTensor,
  ids,
  readGolden,
  readReposFromFixtures,
  readRawImage,
  type Logits,
  type PixelCheck,
  type Summary,
} from '../helpers/family-golden';

// The tiny random Florence-2 fixture in the hub's layout, written by
// tools/families/florence2.py with PyTorch's outputs in golden.json, read by
// @huggingface/transformers as it reads onnx-community/Florence-2-base-ft: its own
// processor (task prompts, CLIP image processing, post-processing) and the four sessions.
const REPO = 'microsoft-tiny-florence2';

readReposFromFixtures();

interface GoldenCase {
  text: string;
  task: string;
  prompt: string;
  input_ids: number[];
  first_logits: Logits;
  second_logits: Logits;
  max_new_tokens: number;
  sequence: number[];
  decoded: string;
  loc_tokens: number;
  greedy_min_top2_gap: number;
  post_processed: { image_size: [number, number]; result: Record<string, unknown> }[];
}
interface FlorenceGolden {
  format: number;
  image: { file: string; width: number; height: number };
  pixel_values: { shape: number[]; sample_stride: number; checks: PixelCheck };
  image_features: Summary;
  cases: GoldenCase[];
  construct_prompts: { text: string; transformers_js: string; hf: string | null }[];
  tokenizer: { text: string; ids: number[] }[];
}

const golden = readGolden<FlorenceGolden>(REPO);
const PIXEL_TOL = 1e-5;
/** Sums over 27,648 values, each within PIXEL_TOL, accumulated in f64. */
const SUM_TOL = 1e-3;
const FEATURE_SUM_TOL = 1e-3;

describe('tiny Florence-2 fixture through transformers.js', () => {
  let processor: Florence2Processor;
  let model: PreTrainedModel;
  const image = readRawImage(REPO, golden.image.file);

  beforeAll(async () => {
    processor = (await Florence2Processor.from_pretrained(REPO)) as Florence2Processor;
    model = await Florence2ForConditionalGeneration.from_pretrained(REPO, { dtype: 'fp32', device: 'cpu' });
  }, 60_000);

  it('tokenizes as the Python twin does (BART layout, <s> ... </s> around the text)', async () => {
    const tok = await AutoTokenizer.from_pretrained(REPO);
    for (const { text, ids: expected } of golden.tokenizer) {
      expect(tok.encode(text), text).toEqual(expected);
      // <loc_N> are special tokens, as Florence-2's processor adds them: kept only when special ones are.
      expect(tok.decode(expected), text).toBe(`<s>${text}</s>`);
    }
  });

  it("builds task prompts as transformers.js's rule in Python says (HF's differs at the edges)", () => {
    for (const row of golden.construct_prompts) {
      expect(processor.construct_prompts(row.text), row.text).toEqual([row.transformers_js]);
    }
    expect(golden.construct_prompts.some((r) => r.hf !== r.transformers_js)).toBe(true);
  });

  it('gives the same pixel values', async () => {
    const { pixel_values: pv } = (await processor(image)) as { pixel_values: Tensor };
    expect(pv.dims).toEqual(golden.pixel_values.shape);
    const { sample_stride: stride, checks } = golden.pixel_values;
    expectPixelCheck(pv.data as Float32Array, stride, checks, { pixel: PIXEL_TOL, sum: SUM_TOL });
  });

  it('gives the same image features from the vision session (DaViT, projection, 1 + h*w tokens)', async () => {
    const { pixel_values } = (await processor(image)) as { pixel_values: Tensor };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- encode_image is internal and untyped
    const feats = (await (model as any).encode_image({ pixel_values })) as Tensor;
    expectSummary(feats, golden.image_features, { value: FEATURE_TOL, sum: FEATURE_SUM_TOL });
  });

  describe.each(golden.cases.map((c) => [c.text, c] as const))('%s', (_name, want) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the processor's outputs are untyped in transformers.js
    let inputs: Record<string, any>;

    beforeAll(async () => {
      inputs = await processor(image, want.text);
    });

    it("builds the task's prompt and the same input ids", () => {
      expect(processor.construct_prompts(want.text)).toEqual([want.prompt]);
      expect(ids(inputs.input_ids as Tensor)).toEqual(want.input_ids);
    });

    it('gives the same logits at the first two decoder steps', async () => {
      for (const [seq, expected] of [
        [[2], want.first_logits],
        [[2, 0], want.second_logits],
      ] as const) {
        const { logits } = (await model({ ...inputs, decoder_input_ids: idTensor([...seq]) })) as { logits: Tensor };
        const [, len = 0, vocab = 0] = logits.dims;
        expect(len).toBe(seq.length);
        const last = (logits.data as Float32Array).subarray((len - 1) * vocab, len * vocab);
        expectLogits(last, expected, LOGIT_TOL, `decoder [${seq.join(', ')}]`);
      }
    });

    it('generates the same ids with generation_config.json as shipped, and post-processes them the same', async () => {
      const out = (await model.generate({ ...inputs, max_new_tokens: want.max_new_tokens })) as Tensor;
      expect(ids(out)).toEqual(want.sequence);
      const [text] = processor.batch_decode(out, { skip_special_tokens: false });
      expect(text).toBe(want.decoded);
      for (const { image_size, result } of want.post_processed) {
        expect(processor.post_process_generation(text ?? '', want.task, image_size), `${image_size.join(' x ')}`).toEqual(
          result,
        );
      }
    });
  });

  it('golden answers hold location tokens, and detection and OCR give boxes and quads', () => {
    const byTask = new Map(golden.cases.map((c) => [c.task, c]));
    for (const [task, key, width] of [
      ['<OD>', 'bboxes', 4],
      ['<OCR_WITH_REGION>', 'quad_boxes', 8],
    ] as const) {
      const c = byTask.get(task);
      expect(c?.loc_tokens).toBeGreaterThan(0);
      const result = c?.post_processed[0]?.result[task] as Record<string, number[][]> | undefined;
      expect(result?.[key]?.length).toBeGreaterThan(0);
      for (const box of result?.[key] ?? []) expect(box).toHaveLength(width);
    }
  });
});
