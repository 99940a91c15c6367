/**
 * LlavaNextForConditionalGeneration (HF modeling_llava_next.py) on the native
 * engine: LLaVA (llava.ts: CLIP tower, projector, Llama decoder, the same
 * parameter names) with AnyRes. Every view of an image (global view, then
 * the tiles) goes through the tower and the projector; pack_image_features
 * then lays out the image's tokens: the global view's, then the tiles'
 * features stitched into one grid, the rows or columns that only saw padding
 * cut off, and `image_newline` after every grid row. The packing is a list of
 * copies on the GPU, planned from anyres.ts's grid and unpad math. The
 * views are encoded, the features merged and the decoder run by the LLaVA
 * parts' NativeVlm code, so the engine is NativeVlmEngine as for the others.
 */
import type { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Tensor } from '../../webgpu/tensor';
import { gridShape, unpadShape, type Size } from '../anyres';
import type { LlavaConfig } from '../config';
import { imageKey, throwIfStopped, type ImageInput } from '../engine';
import type { LoraAdapterData } from '../lora/types';
import type { SafetensorsFile } from '../safetensors';
import { NativeLlava } from './llava';
import type { Scope } from './ops';
import type { WeightOptions } from './weights';

/** One image as the processor gives it: its views ([3, S, S] each, global view first) and its size. */
export interface AnyresImage {
  views: readonly Float32Array[];
  size: Size;
}

/** An image as the engine takes it: pixels is the global view, views all of them (global first). */
export interface AnyresImageInput extends ImageInput, AnyresImage {}

/** The engine's input for one processed image; the key covers every view and the size. */
export function anyresInput(views: readonly Float32Array[], size: Size): AnyresImageInput {
  const all = new Float32Array(views.reduce((n, v) => n + v.length, 0) + 2);
  let at = 0;
  for (const v of views) {
    all.set(v, at);
    at += v.length;
  }
  all.set(size, at);
  return { pixels: views[0] ?? new Float32Array(0), views, size, key: imageKey(all) };
}

/** An engine image input as an AnyRes image; refused when it is a plain single view. */
export function asAnyres(image: ImageInput): AnyresImageInput {
  const { views, size } = image as Partial<AnyresImageInput>;
  if (!views || !size) throw new RangeError('a llava_next image needs its AnyRes views and size (see anyresInput)');
  return image as AnyresImageInput;
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

  get weights(): NativeLlava['weights'] {
    return this.llava.weights;
  }

  /** <image>: each image's run of them takes its packed features. */
  get imageTokenId(): number {
    return this.llava.imageTokenId;
  }

  /** Attach a LoRA adapter to the LLaVA parts unmerged, or detach it with null. */
  setAdapter(adapter: LoraAdapterData | null): void {
    this.llava.setAdapter(adapter);
  }

  /** Fold an adapter into the LLaVA parts' weights; it stays until the model is reloaded. */
  mergeAdapter(adapter: LoraAdapterData): Promise<void> {
    return this.llava.mergeAdapter(adapter);
  }

  /** The grid and packing of one image, its view count checked against the grid. */
  private plan(image: AnyresImage): ReturnType<typeof packPlan> {
    const c = this.config;
    const { rows, cols } = gridShape(image.size[0], image.size[1], c.gridPinpoints, c.vision.imageSize);
    // Every view goes through the tower even when unpadding keeps none of a tile (HF runs them all too).
    const want = 1 + rows * cols;
    if (image.views.length !== want) throw new RangeError(`a ${image.size[0]}x${image.size[1]} image has ${want} views, got ${image.views.length}`);
    return packPlan(image.size, c.gridPinpoints, c.vision.imageSize, this.side);
  }

  /** Per-view features ([side^2, D] each) -> the packed [tokens, D]. */
  private pack(s: Scope, plan: ReturnType<typeof packPlan>, feats: readonly Tensor[], label: string): Tensor {
    const d = this.config.text.hiddenSize;
    const packed = s.empty([plan.tokens, d], `${label}.packed`);
    for (const p of plan.copies) {
      s.rt.copy(p.view < 0 ? this.newline : (feats[p.view] as Tensor), p.from * d, packed, p.to * d, p.count * d);
    }
    return packed;
  }

  /** One image's views -> its packed features [tokens, D], all recorded in `s`. */
  imageFeatures(s: Scope, image: AnyresImage, label = 'image'): Tensor {
    const v = this.config.vision;
    const plan = this.plan(image);
    const feats = image.views.map((px, i) => {
      if (px.length !== v.numChannels * v.imageSize * v.imageSize) {
        throw new RangeError(`view ${i} has ${px.length} values; the vision tower takes [${v.numChannels}, ${v.imageSize}, ${v.imageSize}]`);
      }
      return this.llava.imageFeatures(s, s.upload(px, [v.numChannels, v.imageSize, v.imageSize], `${label}.view.${i}`));
    });
    return this.pack(s, plan, feats, label);
  }

  /**
   * Packed features of each image, finished before the decoder runs so
   * encoding is timed apart. The views go through NativeVlm.encodeImages:
   * each in its own scope, only its feature rows kept, so an encode's memory
   * does not grow with the view count; with a signal each view is a point to stop at.
   */
  async encodeImages(s: Scope, images: readonly AnyresImage[], signal?: AbortSignal): Promise<Tensor[]> {
    const out: Tensor[] = [];
    for (const [i, image] of images.entries()) {
      throwIfStopped(signal);
      const plan = this.plan(image);
      out.push(this.pack(s, plan, await this.llava.encodeImages(s, image.views, signal), `image.${i}`));
    }
    return out;
  }

  /** Prefill a prompt (with its images) into the cache; returns the last position's logits and the encode time. */
  prefill(cache: KvCache, ids: Int32Array, images: readonly AnyresImage[], signal?: AbortSignal): Promise<{ logits: Float32Array; encodeMs: number }> {
    return this.llava.prefillWith(cache, ids, images.length > 0 ? (s) => this.encodeImages(s, images, signal) : null, signal);
  }

  /** prefill() for the engine's image inputs, each one image with all its views (anyresInput). */
  prefillInputs(cache: KvCache, ids: Int32Array, images: readonly ImageInput[], signal?: AbortSignal): Promise<{ logits: Float32Array; encodeMs: number }> {
    return this.prefill(cache, ids, images.map(asAnyres), signal);
  }

  /** One decode step for a single new token. */
  decodeStep(cache: KvCache, id: number): Promise<Float32Array> {
    return this.llava.decodeStep(cache, id);
  }

  /** A greedy decode step: the argmax on the GPU, 4 bytes read back. */
  decodeArgmax(cache: KvCache, id: number): Promise<number> {
    return this.llava.decodeArgmax(cache, id);
  }

  /** Gives every GPU buffer the model holds back to the runtime; the model must not be used again. */
  release(): void {
    this.llava.release();
  }
}
