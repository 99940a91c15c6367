/**
 * A small CPU stand-in for a native model with LoRA, for the fine-tune job's
 * tests: each supervised token is a least-squares target (its label / 10)
 * of features of the token before it, the "adapter" is the weight vector, and
 * AdamW is PyTorch's, in f32 so that export and import are exact.
 */
import type { LlavaTurn } from '../../src/data/llava';
import type { AdamwSettings, LoraAdapterData, LoraConfig, LoraTrainable, OptimizerState, SequenceLoss, TrainExample } from '../../src/models/lora/types';
import type { FinetuneModel } from '../../src/worker/jobs/finetune/finetune-model';
import type { FinetuneDataset, FinetuneSettings } from '../../src/worker/finetune-api';
import { DEFAULT_FINETUNE_SETTINGS } from '../../src/worker/finetune-api';

export const DIM = 4;
const W = 'base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_A.weight';
/** Weights this large "overflow": the fake's loss becomes NaN, as f32 activations would. */
const OVERFLOW = 1e3;

function features(id: number): number[] {
  return Array.from({ length: DIM }, (_, j) => Math.sin((id + 1) * (j + 1) * 0.37));
}

export interface AccumulateCall {
  id: string;
  scale: number;
  dropoutSeed: number | undefined;
}

export class FakeTrainable implements LoraTrainable {
  readonly parameters = [{ name: W, shape: [1, DIM] }];
  readonly calls: AccumulateCall[] = [];
  readonly steps: (AdamwSettings & { step: number; gradScale: number })[] = [];
  released = false;
  private w = new Float32Array(DIM);
  private grad = new Float32Array(DIM);
  private m = new Float32Array(DIM);
  private v = new Float32Array(DIM);

  constructor(readonly config: LoraConfig) {
    this.w.set([0.1, -0.2, 0.3, -0.4]);
  }

  private lossOf(ex: TrainExample, scale: number, accumulate: boolean): SequenceLoss {
    let lossSum = 0;
    let tokens = 0;
    const overflow = this.w.some((x) => Math.abs(x) > OVERFLOW);
    for (let i = 1; i < ex.labels.length; i++) {
      const label = ex.labels[i] as number;
      if (label === -100) continue;
      const x = features(ex.ids[i - 1] as number);
      const err = x.reduce((a, xj, j) => a + xj * (this.w[j] as number), 0) - label / 10;
      lossSum += err * err;
      tokens++;
      if (accumulate) for (let j = 0; j < DIM; j++) this.grad[j] = (this.grad[j] as number) + scale * 2 * err * (x[j] as number);
    }
    return { lossSum: overflow ? Number.NaN : lossSum, tokens };
  }

  async accumulate(example: TrainExample, scale: number, options: { dropoutSeed?: number; signal?: AbortSignal } = {}): Promise<SequenceLoss> {
    this.calls.push({ id: example.id, scale, dropoutSeed: options.dropoutSeed });
    return this.lossOf(example, scale, true);
  }

  async evaluate(example: TrainExample): Promise<SequenceLoss> {
    return this.lossOf(example, 0, false);
  }

  async gradNorms(): Promise<Record<string, number>> {
    return { [W]: Math.hypot(...this.grad) };
  }

  optimizerStep(s: AdamwSettings & { step: number; gradScale: number }): void {
    this.steps.push(s);
    for (let j = 0; j < DIM; j++) {
      const g = (this.grad[j] as number) * s.gradScale;
      this.m[j] = s.beta1 * (this.m[j] as number) + (1 - s.beta1) * g;
      this.v[j] = s.beta2 * (this.v[j] as number) + (1 - s.beta2) * g * g;
      let p = (this.w[j] as number) * (1 - s.lr * s.weightDecay);
      const mHat = (this.m[j] as number) / (1 - s.beta1 ** s.step);
      const vHat = (this.v[j] as number) / (1 - s.beta2 ** s.step);
      p -= (s.lr * mHat) / (Math.sqrt(vHat) + s.eps);
      this.w[j] = p;
    }
    this.zeroGrads();
  }

  zeroGrads(): void {
    this.grad.fill(0);
  }

  async exportAdapter(): Promise<LoraAdapterData> {
    return { config: this.config, tensors: [{ name: W, shape: [1, DIM], data: this.w.slice() }] };
  }

  importAdapter(adapter: LoraAdapterData): void {
    this.w = (adapter.tensors[0]?.data ?? this.w).slice();
  }

  async exportOptimizer(): Promise<OptimizerState> {
    return { step: 0, tensors: [{ name: `${W}.exp_avg`, shape: [1, DIM], data: this.m.slice() }, { name: `${W}.exp_avg_sq`, shape: [1, DIM], data: this.v.slice() }] };
  }

  importOptimizer(state: OptimizerState): void {
    this.m = (state.tensors[0]?.data ?? this.m).slice();
    this.v = (state.tensors[1]?.data ?? this.v).slice();
  }

  release(): void {
    this.released = true;
  }
}

/** Words as ids: each character's code modulo 50, plus 2 (0 and 1 are the turn markers; 3 is the image token). */
function tokens(text: string): number[] {
  return [...text].map((c) => 4 + (c.charCodeAt(0) % 50));
}

export const IMAGE_TOKEN = 3;
export const IMAGE_SEQ = 2;

export class FakeModel implements FinetuneModel {
  readonly imageTokenId = IMAGE_TOKEN;
  readonly imageSeqLength = IMAGE_SEQ;
  readonly peftBase = { modelId: 'fake', config: {} as never };
  readonly trainables: FakeTrainable[] = [];
  attached: LoraAdapterData | null = null;
  merged: LoraAdapterData[] = [];

  constructor(readonly id = 'fake') {}

  encode(conversations: readonly LlavaTurn[]): { ids: Int32Array; labels: Int32Array } {
    const ids: number[] = [];
    const labels: number[] = [];
    for (const turn of conversations) {
      const human = turn.from === 'human';
      const images = human ? turn.value.split('<image>').length - 1 : 0;
      const push = (id: number, supervised: boolean) => {
        ids.push(id);
        labels.push(supervised ? id : -100);
      };
      for (let i = 0; i < images * IMAGE_SEQ; i++) push(IMAGE_TOKEN, false);
      push(human ? 0 : 1, false);
      for (const t of tokens(turn.value.replace(/<image>\n?/g, ''))) push(t, !human);
    }
    return { ids: Int32Array.from(ids), labels: Int32Array.from(labels) };
  }

  pixels(image: { width: number; height: number }): Float32Array {
    return Float32Array.of(image.width, image.height);
  }

  async createTrainable(config: LoraConfig): Promise<FakeTrainable> {
    const t = new FakeTrainable(config);
    this.trainables.push(t);
    return t;
  }

  setAdapter(adapter: LoraAdapterData | null): void {
    this.attached = adapter;
  }

  async mergeAdapter(adapter: LoraAdapterData): Promise<void> {
    this.merged.push(adapter);
  }
}

/** `n` records "what is k?" -> "k squared", one of every five with an image. */
export function fakeDataset(n: number): FinetuneDataset {
  const records = Array.from({ length: n }, (_, k) => ({
    id: `r${k}`,
    ...(k % 5 === 0 ? { image: `images/${k}.png` } : {}),
    conversations: [
      { from: 'human' as const, value: `${k % 5 === 0 ? '<image>\n' : ''}what is ${k}?` },
      { from: 'gpt' as const, value: `${(k * k) % 97}` },
    ],
  }));
  const images = records.flatMap((r) => ('image' in r && typeof r.image === 'string' ? [{ path: r.image, type: 'image/png', bytes: new Uint8Array([1, 2, 3]) }] : []));
  return { name: 'squares', records, images };
}

/** A decoder for fakeDataset's images: a 2x2 image whose width is the byte count. */
export async function fakeDecode(image: { bytes: Uint8Array }): Promise<{ width: number; height: number; data: Uint8Array; channels: 3 }> {
  return { width: image.bytes.length, height: 2, data: new Uint8Array(image.bytes.length * 2 * 3), channels: 3 };
}

export function settings(over: Partial<FinetuneSettings> = {}): FinetuneSettings {
  return { ...DEFAULT_FINETUNE_SETTINGS, learningRate: 0.05, warmupSteps: 2, steps: 8, batchSize: 2, gradAccumulation: 2, maxSeqLength: 64, validationFraction: 0.1, validateEvery: 3, checkpointEvery: 2, seed: 7, ...over };
}
