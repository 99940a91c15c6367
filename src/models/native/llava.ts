/**
 * LlavaForConditionalGeneration (HF modeling_llava.py) on the native engine:
 * CLIP features of the chosen layer, class token dropped, optional k x k
 * pooling (our extension, config image_pooling), the MLP projector, and the
 * features written over the image-token embeddings before the decoder runs
 * (the merge, prefill and decode steps are NativeVlm's, shared with Idefics3).
 */
import { avgPool } from '../../webgpu/kernels/avg-pool';
import type { GpuRuntime } from '../../webgpu/runtime';
import { view, type Tensor } from '../../webgpu/tensor';
import type { LlavaConfig } from '../config';
import type { SafetensorsFile } from '../safetensors';
import { ClipVisionTower } from './clip-vision';
import type { LoraAdapterData } from '../lora/types';
import { LlamaDecoder } from './llama-decoder';
import { mergeLora, uploadLora, uploadProjector } from './lora-adapter';
import { applyExtras, type AppliedExtras, type ExtrasTarget } from './lora-extras';
import { activationFor, activationOp, linear, type Scope } from './ops';
import { NativeVlm } from './vlm-generation';
import type { Linear, WeightOptions } from './weights';

/** Encoder layers to run so that hidden_states[featureLayer] is the last one computed. */
export function layersForFeature(featureLayer: number, numLayers: number): number {
  const index = featureLayer < 0 ? numLayers + 1 + featureLayer : featureLayer;
  if (index < 0 || index > numLayers) throw new Error(`vision_feature_layer ${featureLayer} is outside 0..${numLayers}`);
  return index;
}

export class NativeLlava extends NativeVlm {
  readonly vision: ClipVisionTower;
  readonly decoder: LlamaDecoder;
  /** multi_modal_projector.linear_1 and linear_2 (an adapter that trains the projector swaps them). */
  projector: [Linear, Linear];
  private baseProjector: [Linear, Linear];
  /** GPU tensors of the attached adapter, released when it is detached. */
  private adapterTensors: Tensor[] = [];
  /** The attached adapter's vision LoRA and token rows, swapped in. */
  private extras: AppliedExtras | null = null;
  /** Merged adapters' weights and projectors, released with the model. */
  private readonly mergedTensors: Tensor[] = [];

  constructor(
    rt: GpuRuntime,
    readonly config: LlavaConfig,
    file: SafetensorsFile,
    options: WeightOptions = {},
  ) {
    super(rt, file, options);
    const v = config.vision;
    this.vision = new ClipVisionTower(this.weights, v, layersForFeature(config.visionFeatureLayer, v.numLayers));
    this.decoder = new LlamaDecoder(this.weights, config.text);
    const d = config.text.hiddenSize;
    this.projector = [
      this.weights.linear('multi_modal_projector.linear_1', d, v.hiddenSize, config.projectorBias),
      this.weights.linear('multi_modal_projector.linear_2', d, d, config.projectorBias),
    ];
    this.baseProjector = this.projector;
  }

  /** <image>: each run of image_seq_length of them takes one image's features. */
  get imageTokenId(): number {
    return this.config.imageTokenIndex;
  }

  protected get pixelShape(): readonly [number, number, number] {
    const v = this.config.vision;
    return [v.numChannels, v.imageSize, v.imageSize];
  }

  private projectorPaths(): { path: string; lin: Linear }[] {
    return this.projector.map((lin, i) => ({ path: `multi_modal_projector.linear_${i + 1}`, lin }));
  }

  /**
   * Attach an adapter unmerged (the decoder adds scale * B (A x) on its
   * wrapped layers; a trained projector replaces the model's), or detach it
   * with null. Throws, naming the tensor, when the adapter does not fit.
   */
  setAdapter(adapter: LoraAdapterData | null): void {
    let next: { lora: NonNullable<LlamaDecoder['lora']>; owned: Tensor[]; projector: Linear[] | null } | null = null;
    if (adapter) {
      const { lora, owned } = uploadLora(this.rt, this.decoder, adapter);
      try {
        next = { lora, owned, projector: uploadProjector(this.rt, adapter, this.projectorPaths(), owned) };
      } catch (error) {
        for (const t of owned) this.rt.release(t);
        throw error;
      }
    }
    this.extras?.restore();
    this.extras = null;
    if (adapter && next) {
      try {
        this.extras = applyExtras(this.rt, this.extrasTarget(), adapter);
      } catch (error) {
        for (const t of next.owned) this.rt.release(t);
        throw error;
      }
      next.owned.push(...this.extras.owned);
    }
    for (const t of this.adapterTensors) this.rt.release(t);
    this.adapterTensors = next?.owned ?? [];
    this.decoder.lora = next?.lora ?? null;
    this.projector = (next?.projector as [Linear, Linear] | null) ?? this.baseProjector;
  }

  get hasAdapter(): boolean {
    return this.decoder.lora !== null;
  }

  /**
   * Fold an adapter into f32 weights (W + scale * B A; quantized layers
   * become f32) and keep its projector; the attached adapter, if any, is
   * detached. It cannot be taken out again short of reloading the model.
   */
  async mergeAdapter(adapter: LoraAdapterData): Promise<void> {
    const keep = (data: Float32Array, shape: number[], label: string): Tensor => {
      const t = this.rt.upload(data, shape, label);
      this.mergedTensors.push(t);
      return t;
    };
    const projector = uploadProjector(this.rt, adapter, this.projectorPaths(), this.mergedTensors);
    this.setAdapter(null);
    // Vision LoRA and token rows are folded into copies the model keeps.
    this.mergedTensors.push(...applyExtras(this.rt, this.extrasTarget(), adapter).owned);
    await mergeLora(this.decoder, adapter, (lin, name) => (lin.weight.kind === 'f32' ? this.rt.readF32(lin.weight.w) : Promise.resolve(this.weights.hostF32(name))), keep);
    if (projector) {
      this.projector = projector as [Linear, Linear];
      this.baseProjector = this.projector;
    }
  }

  private extrasTarget(): ExtrasTarget {
    return {
      decoder: this.decoder,
      vision: { layers: this.vision.encoder.layers, path: 'vision_tower.vision_model.encoder' },
      tokenPaths: { embed: `${this.decoder.modelPath}.embed_tokens`, lmHead: `${this.decoder.prefix}.lm_head` },
      hostWeight: (name) => this.weights.hostF32(name),
    };
  }

  /** pixel_values of one image [3, S, S] -> image features [imageSeqLength, D]. */
  imageFeatures(s: Scope, pixels: Tensor): Tensor {
    return this.project(s, this.visionFeatures(s, pixels));
  }

  /** The frozen part of imageFeatures: the vision tower's selected (and pooled) features, before the projector. */
  visionFeatures(s: Scope, pixels: Tensor): Tensor {
    const c = this.config;
    const hidden = this.vision.forward(s, pixels);
    const n = this.vision.numPatches;
    const width = c.vision.hiddenSize;
    let feats = hidden;
    if (c.visionFeatureSelect === 'default') {
      feats = s.empty([n, width], 'llava.patch-features');
      s.rt.copy(hidden, width, feats, 0, n * width);
    }
    if (c.imagePooling > 1) {
      const side = Math.sqrt(n);
      const k = c.imagePooling;
      const pooled = s.empty([(side / k) ** 2, width], 'llava.pooled');
      s.rt.run(avgPool, [view(feats, [1, side, side, width])], [view(pooled, [1, side / k, side / k, width])], { batch: 1, gridH: side, gridW: side, channels: width, k });
      feats = pooled;
    }
    return feats;
  }

  /** The projector: linear_1, activation, linear_2. */
  project(s: Scope, feats: Tensor): Tensor {
    const c = this.config;
    const mid = activationOp(s, linear(s, feats, this.projector[0], 'projector.linear_1'), activationFor(c.projectorHiddenAct), 'projector.act');
    return linear(s, mid, this.projector[1], 'projector.linear_2');
  }

  /** Gives every GPU buffer the model holds back to the runtime; the model must not be used again. */
  override release(): void {
    this.setAdapter(null);
    for (const t of this.mergedTensors) this.rt.release(t);
    this.mergedTensors.length = 0;
    super.release();
  }
}
