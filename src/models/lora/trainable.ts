/**
 * LoraTrainable on the native engine: the adapter's tensors, gradients and
 * AdamW state on the GPU, one sequence at a time through SequenceTrainer.
 * createLoraTrainable takes a NativeLlava; createTrainableFor takes any
 * LoraHost (another family's decoder and image step).
 */
import { Rng } from '../../data/random';
import { adamw } from '../../webgpu/kernels/adamw';
import { sumSquares } from '../../webgpu/kernels/sum-squares';
import { numel, type Tensor } from '../../webgpu/tensor';
import type { NativeLlava } from '../native/llava';
import { activationOp, linear, Scope } from '../native/ops';
import { TransposedWeights } from './grad-ops';
import { llavaHost, type LoraHost } from './host';
import { createParams, releaseParams, type Param, type TrainedParams } from './params';
import { SequenceTrainer, type SequenceMasks } from './sequence';
import { TokenRows } from './tokens';
import { VisionTrainer } from './vision';
import { LORA_TARGETS, VISION_TARGETS, type AdamwSettings, type LoraAdapterData, type LoraConfig, type LoraTrainable, type NamedTensor, type OptimizerState, type SequenceLoss, type TrainExample } from './types';

export interface TrainableOptions {
  /** Seed of A's kaiming-uniform init (PEFT's default init). */
  seed?: number;
  /** dX of frozen weights through their transposes and the forward matmul (default: on CPU-emulated adapters only). */
  transposeFrozen?: boolean;
}

/** A 32-bit mix of the dropout seed, the layer and the target, so every wrapped layer draws its own mask. */
function maskSeed(seed: number, layer: number, target: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (layer + 1), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (target + 1), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export class NativeLoraTrainable implements LoraTrainable {
  readonly parameters: readonly { name: string; shape: readonly number[] }[];
  private readonly trainer: SequenceTrainer;
  private readonly frozen: TransposedWeights;
  private readonly vision: VisionTrainer | null;
  private readonly tokens: TokenRows | null;
  private step = 0;
  /** The last image's frozen features, kept while the next sequence shows the same pixels (batches repeat images). */
  private cached: { pixels: Float32Array; features: Tensor } | null = null;

  constructor(
    private readonly host: LoraHost,
    readonly config: LoraConfig,
    private readonly params: TrainedParams,
    transposeFrozen?: boolean,
  ) {
    this.parameters = params.all.map((p) => ({ name: p.name, shape: p.shape }));
    this.frozen = transposeFrozen === undefined ? TransposedWeights.for(host.rt) : new TransposedWeights(transposeFrozen);
    const scale = config.alpha / config.rank;
    this.vision = params.vision.length && host.vision ? new VisionTrainer(host.vision, params.vision, scale, this.frozen) : null;
    this.tokens = params.tokens ? new TokenRows(host.rt, host.decoder, params.tokens) : null;
    this.trainer = new SequenceTrainer(host, params, scale, this.frozen, this.vision, this.tokens);
  }

  private get rt() {
    return this.host.rt;
  }

  /**
   * The frozen part of the image step: with vision LoRA the hidden state
   * entering its first wrapped layer, else the projector's input when it is
   * trained (its output changes every step), else the finished image features.
   */
  private features(s: Scope, px: Float32Array, i: number): Tensor {
    if (this.cached?.pixels === px) return this.cached.features;
    const vision = this.host.vision;
    const frozen = this.vision && vision ? vision.hiddenBefore(s, px, this.vision.first, `train.image.${i}`) : this.host.visionFeatures(s, px, `train.image.${i}`);
    let feats = frozen;
    if (this.params.projector.length === 0 && !this.vision) {
      // Without a trained projector the whole image step is frozen.
      let x = frozen;
      this.host.projector.forEach((p, j) => {
        x = linear(s, x, p.lin, `train.frozen-projector.${j}`);
        if (j < this.host.projector.length - 1) x = activationOp(s, x, this.host.projectorAct, `train.frozen-projector.${j}.act`);
      });
      feats = x;
    }
    const kept = this.rt.empty(feats.shape, 'f32', 'train.cached-features');
    this.rt.copy(feats, 0, kept, 0, numel(feats.shape));
    if (this.cached) this.rt.release(this.cached.features);
    this.cached = { pixels: px, features: kept };
    return kept;
  }

  /** Masks drawn per layer and target (vision targets numbered after the decoder's), tracked in `made` for release. */
  private masks(seed: number | undefined, made: Tensor[]): SequenceMasks {
    const p = this.config.dropout;
    if (seed === undefined || p <= 0) return { decoder: () => null, vision: () => null };
    const draw = (layer: number, target: number, rows: number, cols: number, label: string) => {
      const rng = new Rng(maskSeed(seed, layer, target));
      const keep = 1 / (1 - p);
      const data = new Float32Array(rows * cols);
      for (let i = 0; i < data.length; i++) data[i] = rng.next() < p ? 0 : keep;
      const t = this.rt.upload(data, [rows, cols], label);
      made.push(t);
      return t;
    };
    return {
      decoder: (layer, target, rows, cols) => draw(layer, LORA_TARGETS.indexOf(target), rows, cols, `train.dropout.${layer}.${target}`),
      vision: (layer, target, rows, cols) => draw(layer, LORA_TARGETS.length + VISION_TARGETS.indexOf(target), rows, cols, `train.dropout.vision.${layer}.${target}`),
    };
  }

  private async run(example: TrainExample, gradScale: number | null, dropoutSeed: number | undefined, signal?: AbortSignal): Promise<SequenceLoss> {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('stopped');
    if (example.ids.length !== example.labels.length) throw new Error(`example ${example.id}: ${example.ids.length} ids but ${example.labels.length} labels`);
    const s = new Scope(this.rt);
    const made: Tensor[] = [];
    const masks = this.masks(dropoutSeed, made);
    try {
      const out = this.trainer.record(s, example, masks, gradScale, (sc, px, i) => this.features(sc, px, i));
      this.rt.submit();
      if (!out.losses) return { lossSum: 0, tokens: 0 };
      const losses = await this.rt.readF32(out.losses);
      let sum = 0;
      for (const v of losses) sum += v;
      return { lossSum: sum, tokens: out.tokens };
    } finally {
      this.rt.discardStep();
      for (const m of made) this.rt.release(m);
      s.release();
    }
  }

  accumulate(example: TrainExample, scale: number, options: { dropoutSeed?: number; signal?: AbortSignal } = {}): Promise<SequenceLoss> {
    return this.run(example, scale, options.dropoutSeed, options.signal);
  }

  evaluate(example: TrainExample): Promise<SequenceLoss> {
    return this.run(example, null, undefined);
  }

  /** Every gradient's sum of squares on the GPU (sum-squares, one slot each), read back once. */
  async gradNorms(): Promise<Record<string, number>> {
    const all = this.params.all;
    const sums = this.rt.empty([all.length], 'f32', 'train.grad-sums');
    try {
      all.forEach((p, slot) => this.rt.run(sumSquares, [p.grad], [sums], { n: numel(p.shape), slots: all.length, slot }));
      this.rt.submit();
      const squares = await this.rt.readF32(sums);
      return Object.fromEntries(all.map((p, i) => [p.name, Math.sqrt(squares[i] as number)]));
    } finally {
      this.rt.discardStep();
      this.rt.release(sums);
    }
  }

  /** Every accumulated gradient by parameter name (tests; gradNorms is what the trainer needs). */
  async gradients(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const p of this.params.all) out.set(p.name, await this.rt.readF32(p.grad));
    return out;
  }

  optimizerStep(settings: AdamwSettings & { step: number; gradScale: number; tokenLr?: number }): void {
    const { lr, beta1, beta2, eps, weightDecay, step, gradScale } = settings;
    try {
      const tokenLr = settings.tokenLr ?? lr;
      const rows = new Set([this.params.tokens?.embed, this.params.tokens?.head]);
      for (const p of this.params.all) this.rt.run(adamw, [p.grad], [p.value, p.m, p.v], { shape: p.shape, lr: rows.has(p) ? tokenLr : lr, beta1, beta2, eps, weightDecay, step, gradScale });
      this.rt.submit();
    } finally {
      this.rt.discardStep();
    }
    this.step = step;
    this.zeroGrads();
  }

  zeroGrads(): void {
    for (const p of this.params.all) this.rt.write(p.grad, new Float32Array(numel(p.shape)));
  }

  private async named(pick: (p: Param) => Tensor, suffix = ''): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [];
    for (const p of this.params.all) out.push({ name: `${p.name}${suffix}`, shape: [...p.shape], data: await this.rt.readF32(pick(p)) });
    return out;
  }

  async exportAdapter(): Promise<LoraAdapterData> {
    return { config: { ...this.config, targetModules: [...this.config.targetModules] }, tensors: await this.named((p) => p.value) };
  }

  importAdapter(adapter: LoraAdapterData): void {
    const byName = new Map(adapter.tensors.map((t) => [t.name, t]));
    for (const p of this.params.all) this.rt.write(p.value, tensorFor(byName, p.name, p.shape));
  }

  async exportOptimizer(): Promise<OptimizerState> {
    return { step: this.step, tensors: [...(await this.named((p) => p.m, '.exp_avg')), ...(await this.named((p) => p.v, '.exp_avg_sq'))] };
  }

  importOptimizer(state: OptimizerState): void {
    const byName = new Map(state.tensors.map((t) => [t.name, t]));
    for (const p of this.params.all) {
      this.rt.write(p.m, tensorFor(byName, `${p.name}.exp_avg`, p.shape));
      this.rt.write(p.v, tensorFor(byName, `${p.name}.exp_avg_sq`, p.shape));
    }
    this.step = state.step;
  }

  release(): void {
    if (this.cached) this.rt.release(this.cached.features);
    this.cached = null;
    this.tokens?.release();
    this.frozen.release(this.rt);
    releaseParams(this.rt, this.params);
  }
}

function tensorFor(byName: ReadonlyMap<string, NamedTensor>, name: string, shape: readonly number[]): Float32Array {
  const t = byName.get(name);
  if (!t) throw new Error(`the adapter has no tensor ${name}`);
  if (t.data.length !== numel(shape)) throw new Error(`tensor ${name} is [${t.shape.join(',')}] but the model needs [${shape.join(',')}]`);
  return t.data;
}

/** A trainable adapter on any native model that provides a LoraHost. */
export async function createTrainableFor(host: LoraHost, config: LoraConfig, init?: LoraAdapterData, options: TrainableOptions = {}): Promise<NativeLoraTrainable> {
  if (!Number.isInteger(config.rank) || config.rank < 1) throw new Error(`LoRA rank must be a positive integer, got ${config.rank}`);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new Error(`LoRA dropout must lie in [0, 1), got ${config.dropout}`);
  const initial = init ? new Map(init.tensors.map((t) => [t.name, t.data])) : undefined;
  const params = await createParams(host, config, options.seed ?? 0, initial);
  return new NativeLoraTrainable(host, config, params, options.transposeFrozen);
}

/** A trainable adapter on a native LLaVA. */
export function createLoraTrainable(model: NativeLlava, config: LoraConfig, init?: LoraAdapterData, options: TrainableOptions = {}): Promise<LoraTrainable> {
  return createTrainableFor(llavaHost(model), config, init, options);
}
