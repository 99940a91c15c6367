/**
 * Idefics3ForConditionalGeneration (HF modeling_idefics3.py; SmolVLM) on the
 * native engine: each tile through the SigLIP tower, the connector
 * (Idefics3Connector: pixel shuffle by scale_factor, then
 * modality_projection.proj, a linear layer without bias), the features
 * written over the prompt's <image> tokens in order, then the Llama decoder
 * (SmolLM2: tied embeddings, its rope_theta) with the KV cache.
 */
import { transpose } from '../../webgpu/kernels/transpose';
import type { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import { view, type Tensor } from '../../webgpu/tensor';
import type { Idefics3Config } from '../config';
import { throwIfStopped } from '../engine';
import type { SafetensorsFile } from '../safetensors';
import { LlamaDecoder } from './llama-decoder';
import { linear, Scope } from './ops';
import { SiglipVisionTower } from './siglip-vision';
import { Weights, type Linear, type WeightOptions } from './weights';

export class NativeIdefics3 {
  readonly weights: Weights;
  readonly vision: SiglipVisionTower;
  readonly decoder: LlamaDecoder;
  /** model.connector.modality_projection.proj: [D, C r^2], no bias. */
  readonly projection: Linear;

  constructor(
    readonly rt: GpuRuntime,
    readonly config: Idefics3Config,
    file: SafetensorsFile,
    options: WeightOptions = {},
  ) {
    this.weights = new Weights(rt, file, options);
    const v = config.vision;
    this.vision = new SiglipVisionTower(this.weights, v);
    this.decoder = new LlamaDecoder(this.weights, config.text, 'model.text_model', { model: 'model.text_model', lmHead: 'lm_head' });
    const r = config.scaleFactor;
    this.projection = this.weights.linear('model.connector.modality_projection.proj', config.text.hiddenSize, v.hiddenSize * r * r, false);
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

  /**
   * Image features of each tile, finished before the decoder runs so the time
   * spent encoding can be measured apart; with a signal each tile is a point
   * to stop at.
   */
  async encodeTiles(s: Scope, tiles: readonly Float32Array[], signal?: AbortSignal): Promise<Tensor[]> {
    const v = this.config.vision;
    const feats: Tensor[] = [];
    for (const [i, px] of tiles.entries()) {
      throwIfStopped(signal);
      if (px.length !== v.numChannels * v.imageSize * v.imageSize) {
        throw new RangeError(`tile ${i} has ${px.length} values; the vision tower takes [${v.numChannels}, ${v.imageSize}, ${v.imageSize}]`);
      }
      feats.push(this.imageFeatures(s, s.upload(px, [v.numChannels, v.imageSize, v.imageSize], `tile.${i}`)));
      if (signal || i === tiles.length - 1) {
        this.rt.submit();
        await this.rt.device.queue.onSubmittedWorkDone();
      }
    }
    throwIfStopped(signal);
    return feats;
  }

  /**
   * Token embeddings with the tiles' features written over the <image> tokens
   * in order (HF's inputs_merger): the i-th run of image_seq_len image tokens
   * takes the i-th tile's features.
   */
  mergedEmbeddings(s: Scope, ids: Int32Array, features: readonly Tensor[]): Tensor {
    const c = this.config;
    const d = c.text.hiddenSize;
    const embeds = this.decoder.embed(s, s.upload(ids, [ids.length], 'prompt.ids'));
    const positions: number[] = [];
    ids.forEach((id, i) => {
      if (id === c.imageTokenId) positions.push(i);
    });
    if (positions.length !== features.length * c.imageSeqLength) {
      throw new Error(`the prompt has ${positions.length} image tokens but ${features.length} tile(s) need ${features.length * c.imageSeqLength}`);
    }
    features.forEach((feats, tile) => {
      const mine = positions.slice(tile * c.imageSeqLength, (tile + 1) * c.imageSeqLength);
      let start = 0;
      for (let j = 1; j <= mine.length; j++) {
        if (j === mine.length || (mine[j] as number) !== (mine[j - 1] as number) + 1) {
          s.rt.copy(feats, start * d, embeds, (mine[start] as number) * d, (j - start) * d);
          start = j;
        }
      }
    });
    return embeds;
  }

  /**
   * Prefill a prompt (its tiles in order) into the cache; returns the last
   * position's logits and the encode time. With a signal the work is
   * submitted tile by tile and layer by layer, and a Stop ends it there.
   */
  async prefill(cache: KvCache, ids: Int32Array, tiles: readonly Float32Array[], signal?: AbortSignal): Promise<{ logits: Float32Array; encodeMs: number }> {
    const s = new Scope(this.rt);
    try {
      const t0 = performance.now();
      const features = tiles.length > 0 ? await this.encodeTiles(s, tiles, signal) : [];
      const encodeMs = performance.now() - t0;
      const logits = await this.decoder.stepInChunks(s, this.mergedEmbeddings(s, ids, features), cache, signal);
      return { logits: await this.rt.readF32(logits), encodeMs };
    } finally {
      this.rt.discardStep();
      s.release();
    }
  }

  /** One decode step for a single new token. */
  async decodeStep(cache: KvCache, id: number): Promise<Float32Array> {
    const s = new Scope(this.rt);
    try {
      const embeds = this.decoder.embed(s, s.upload(new Int32Array([id]), [1], 'token.id'));
      return await this.rt.readF32(this.decoder.step(s, embeds, cache));
    } finally {
      this.rt.discardStep();
      s.release();
    }
  }

  /** Gives every GPU buffer the model holds back to the runtime; the model must not be used again. */
  release(): void {
    this.weights.release();
  }
}
