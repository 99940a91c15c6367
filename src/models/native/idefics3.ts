/**
 * Idefics3ForConditionalGeneration (HF modeling_idefics3.py; SmolVLM) on the
 * native engine: each tile through the SigLIP tower, the connector
 * (Idefics3Connector: pixel shuffle by scale_factor, then
 * modality_projection.proj, a linear layer without bias), the features
 * written over the prompt's <image> tokens in order, then the Llama decoder
 * (SmolLM2: tied embeddings, its rope_theta) with the KV cache; the merge,
 * prefill and decode steps are NativeVlm's, shared with LLaVA.
 */
import { transpose } from '../../webgpu/kernels/transpose';
import type { GpuRuntime } from '../../webgpu/runtime';
import { view, type Tensor } from '../../webgpu/tensor';
import type { Idefics3Config } from '../config';
import type { SafetensorsFile } from '../safetensors';
import type { LoraAdapterData } from '../lora/types';
import { LlamaDecoder } from './llama-decoder';
import { DecoderAdapter } from './lora-adapter';
import { linear, type Scope } from './ops';
import { SiglipVisionTower } from './siglip-vision';
import { NativeVlm } from './vlm-generation';
import type { Linear, WeightOptions } from './weights';

export class NativeIdefics3 extends NativeVlm {
  readonly vision: SiglipVisionTower;
  readonly decoder: LlamaDecoder;
  /** model.connector.modality_projection.proj: [D, C r^2], no bias. */
  readonly projection: Linear;
  /** A LoRA adapter on the text model, attached for answers or merged (as NativeLlava's, minus the projector). */
  private readonly adapter: DecoderAdapter;

  constructor(
    rt: GpuRuntime,
    readonly config: Idefics3Config,
    file: SafetensorsFile,
    options: WeightOptions = {},
  ) {
    super(rt, file, options);
    const v = config.vision;
    this.vision = new SiglipVisionTower(this.weights, v);
    this.decoder = new LlamaDecoder(this.weights, config.text, 'model.text_model', { model: 'model.text_model', lmHead: 'lm_head' });
    const r = config.scaleFactor;
    this.projection = this.weights.linear('model.connector.modality_projection.proj', config.text.hiddenSize, v.hiddenSize * r * r, false);
    this.adapter = new DecoderAdapter(rt, this.decoder, (name) => this.weights.hostF32(name));
  }

  /** Attach a decoder adapter unmerged (scale * B (A x) added in every step), or detach it with null. */
  setAdapter(adapter: LoraAdapterData | null): void {
    this.adapter.set(adapter);
  }

  get hasAdapter(): boolean {
    return this.adapter.isAttached;
  }

  /** Fold a decoder adapter into f32 weights; it stays until the model is reloaded. */
  mergeAdapter(adapter: LoraAdapterData): Promise<void> {
    return this.adapter.merge(adapter);
  }

  override release(): void {
    this.adapter.release();
    super.release();
  }

  /** <image>: each run of image_seq_len of them takes one tile's features. */
  get imageTokenId(): number {
    return this.config.imageTokenId;
  }

  /** One tile (a crop or the global view): [3, max_image_size, max_image_size]. */
  protected get pixelShape(): readonly [number, number, number] {
    const v = this.config.vision;
    return [v.numChannels, v.imageSize, v.imageSize];
  }

  /**
   * Idefics3Connector.pixel_shuffle: [N, C] patches of a side x side grid ->
   * [N / r^2, C r^2], where token (i, j) holds the r x r block of patches
   * (i r + dh, j r + dw) with features ordered (dh, dw, c). HF's reshapes and
   * permutes come down to one swap of axes 1 and 2 of the grid seen as
   * [side/r, r, side/r, r C].
   */
  pixelShuffle(s: Scope, hidden: Tensor): Tensor {
    const r = this.config.scaleFactor;
    const c = this.config.vision.hiddenSize;
    const side = this.config.vision.imageSize / this.config.vision.patchSize;
    const shape: [number, number, number, number] = [side / r, r, side / r, r * c];
    const out = s.empty([this.config.imageSeqLength, c * r * r], 'connector.pixel-shuffle');
    s.rt.run(transpose, [view(hidden, shape)], [view(out, [side / r, side / r, r, r * c])], { shape });
    return out;
  }

  /** pixel_values of one tile [3, S, S] -> its image features [imageSeqLength, D]. */
  imageFeatures(s: Scope, pixels: Tensor): Tensor {
    return linear(s, this.pixelShuffle(s, this.vision.forward(s, pixels)), this.projection, 'connector.proj');
  }
}
