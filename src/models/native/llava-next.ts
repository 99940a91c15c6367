/**
 * LlavaNextForConditionalGeneration (HF modeling_llava_next.py) on the native
 * engine: LLaVA (llava.ts: CLIP tower, projector, Llama decoder, the same
 * parameter names) with AnyRes. Every view of an image (global view, then
 * the tiles) goes through the tower and the projector; pack_image_features
 * then lays out the image's tokens: the global view's, then the tiles'
 * features stitched into one grid, the rows or columns that only saw padding
 * cut off, and `image_newline` after every grid row. The packing is a list of
 * copies on the GPU, planned from anyres.ts's grid and unpad math.
 */
import type { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Tensor } from '../../webgpu/tensor';
import { gridShape, unpadShape, type Size } from '../anyres';
import type { LlavaConfig } from '../config';
import { throwIfStopped } from '../engine';
import type { SafetensorsFile } from '../safetensors';
import { NativeLlava } from './llava';
import { Scope } from './ops';
import type { WeightOptions } from './weights';

/** One image as the processor gives it: its views ([3, S, S] each, global view first) and its size. */
export interface AnyresImage {
  views: readonly Float32Array[];
  size: Size;
}

/** One copy of `count` rows of D values from a view's features (or the newline, view -1) into the packed features. */
export interface PackCopy {
  view: number;
  from: number;
  to: number;
  count: number;
}

/**
 * The copies that turn per-view features ([side^2, D] each) into the packed
 * [tokens, D] of HF's pack_image_features, in rows of D: the global view
 * whole, then per kept grid row its pieces from each tile it crosses and a
 * newline (view -1). Returns them with the token count.
 */
export function packPlan(size: Size, pinpoints: readonly Size[], tile: number, side: number): { tokens: number; copies: PackCopy[] } {
  const { rows, cols } = gridShape(size[0], size[1], pinpoints, tile);
  const kept = unpadShape(rows * side, cols * side, size);
  const copies: PackCopy[] = [{ view: 0, from: 0, to: 0, count: side * side }];
  for (let y = 0; y < kept.height; y++) {
    const gy = kept.top + y;
    const row = side * side + y * (kept.width + 1);
    for (let c = 0; c < cols; c++) {
      // Grid columns [x0, x1) of this row lie in tile (gy / side, c), in its row gy % side.
      const x0 = Math.max(kept.left, c * side);
      const x1 = Math.min(kept.left + kept.width, (c + 1) * side);
      if (x1 <= x0) continue;
      const view = 1 + Math.floor(gy / side) * cols + c;
      copies.push({ view, from: (gy % side) * side + (x0 - c * side), to: row + (x0 - kept.left), count: x1 - x0 });
    }
    copies.push({ view: -1, from: 0, to: row + kept.width, count: 1 });
  }
  return { tokens: side * side + kept.height * (kept.width + 1), copies };
}

export class NativeLlavaNext {
  /** The LLaVA parts: tower, projector and decoder under the hub's names. */
  readonly llava: NativeLlava;
  /** image_newline [D]. */
  readonly newline: Tensor;
  /** Tokens per view side after the tower (and pooling, where the config asks for it). */
  readonly side: number;

  constructor(
    readonly rt: GpuRuntime,
    readonly config: LlavaConfig,
    file: SafetensorsFile,
    options: WeightOptions = {},
  ) {
    if (config.gridPinpoints.length === 0) throw new Error('config.json has no image_grid_pinpoints: not a llava_next checkpoint');
    // HF's pack_image_features checks that a view gives side^2 tokens: no class token.
    if (config.visionFeatureSelect !== 'default') throw new Error(`llava_next needs vision_feature_select_strategy 'default', not '${config.visionFeatureSelect}'`);
    this.llava = new NativeLlava(rt, config, file, options);
    try {
      this.newline = this.llava.weights.tensor('image_newline', [config.text.hiddenSize]);
    } catch (err) {
      // The tower and decoder are on the GPU already: give them back before the refusal.
      this.llava.release();
      throw err;
    }
    this.side = config.vision.imageSize / config.vision.patchSize / config.imagePooling;
  }

  get decoder(): NativeLlava['decoder'] {
    return this.llava.decoder;
  }

  /** One image's views -> its packed features [tokens, D]. */
  imageFeatures(s: Scope, image: AnyresImage, label = 'image'): Tensor {
    const c = this.config;
    const v = c.vision;
    const d = c.text.hiddenSize;
    const plan = packPlan(image.size, c.gridPinpoints, v.imageSize, this.side);
    const { rows, cols } = gridShape(image.size[0], image.size[1], c.gridPinpoints, v.imageSize);
    // Every view goes through the tower even when unpadding keeps none of a tile (HF runs them all too).
    const want = 1 + rows * cols;
    if (image.views.length !== want) throw new RangeError(`a ${image.size[0]}x${image.size[1]} image has ${want} views, got ${image.views.length}`);
    const feats = image.views.map((px, i) => {
      if (px.length !== v.numChannels * v.imageSize * v.imageSize) {
        throw new RangeError(`view ${i} has ${px.length} values; the vision tower takes [${v.numChannels}, ${v.imageSize}, ${v.imageSize}]`);
      }
      return this.llava.imageFeatures(s, s.upload(px, [v.numChannels, v.imageSize, v.imageSize], `${label}.view.${i}`));
    });
    const packed = s.empty([plan.tokens, d], `${label}.packed`);
    for (const p of plan.copies) {
      s.rt.copy(p.view < 0 ? this.newline : (feats[p.view] as Tensor), p.from * d, packed, p.to * d, p.count * d);
    }
    return packed;
  }

  /** Packed features of each image, finished before the decoder runs so encoding is timed apart; with a signal each image is a point to stop at. */
  async encodeImages(s: Scope, images: readonly AnyresImage[], signal?: AbortSignal): Promise<Tensor[]> {
    const out: Tensor[] = [];
    for (const [i, image] of images.entries()) {
      throwIfStopped(signal);
      out.push(this.imageFeatures(s, image, `image.${i}`));
      if (signal || i === images.length - 1) {
        this.rt.submit();
        await this.rt.device.queue.onSubmittedWorkDone();
      }
    }
    throwIfStopped(signal);
    return out;
  }

  /**
   * Token embeddings with each image's packed features written over its run
   * of image tokens, in order (HF's masked_scatter): image i takes the next
   * features[i].shape[0] image-token positions.
   */
  mergedEmbeddings(s: Scope, ids: Int32Array, features: readonly Tensor[]): Tensor {
    const c = this.config;
    const d = c.text.hiddenSize;
    const embeds = this.llava.decoder.embed(s, s.upload(ids, [ids.length], 'prompt.ids'));
    const positions: number[] = [];
    ids.forEach((id, i) => {
      if (id === c.imageTokenIndex) positions.push(i);
    });
    const need = features.reduce((n, f) => n + (f.shape[0] as number), 0);
    if (positions.length !== need) throw new Error(`the prompt has ${positions.length} image tokens but its ${features.length} image(s) give ${need} features`);
    let next = 0;
    for (const feats of features) {
      const mine = positions.slice(next, next + (feats.shape[0] as number));
      next += mine.length;
      let start = 0;
      for (let j = 1; j <= mine.length; j++) {
        if (j === mine.length || (mine[j] as number) !== (mine[j - 1] as number) + 1) {
          s.rt.copy(feats, start * d, embeds, (mine[start] as number) * d, (j - start) * d);
          start = j;
        }
      }
    }
    return embeds;
  }

  /** Prefill a prompt (with its images) into the cache; returns the last position's logits and the encode time. */
  async prefill(cache: KvCache, ids: Int32Array, images: readonly AnyresImage[], signal?: AbortSignal): Promise<{ logits: Float32Array; encodeMs: number }> {
    const s = new Scope(this.rt);
    try {
      const t0 = performance.now();
      const features = images.length > 0 ? await this.encodeImages(s, images, signal) : [];
      const encodeMs = performance.now() - t0;
      const logits = await this.llava.decoder.stepInChunks(s, this.mergedEmbeddings(s, ids, features), cache, signal);
      return { logits: await this.rt.readF32(logits), encodeMs };
    } finally {
      this.rt.discardStep();
      s.release();
    }
  }

  /** One decode step for a single new token. */
  decodeStep(cache: KvCache, id: number): Promise<Float32Array> {
    return this.llava.decodeStep(cache, id);
  }

  /** Gives every GPU buffer the model holds back to the runtime; the model must not be used again. */
  release(): void {
    this.llava.release();
  }
}
