/**
 * What LLaVA and Idefics3 share on the native engine, as their HF modeling
 * files share it: each image input through the model's own image features
 * (get_image_features), the features written over the prompt's image tokens
 * in order (inputs_merger / masked_scatter), then the Llama decoder prefilled
 * into the KV cache and run one token per decode step. A model file says
 * only what differs: its vision tower and projector, its image token, the
 * pixel shape of one image input.
 */
import type { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import { argmax } from '../../webgpu/kernels/argmax';
import { numel, type Tensor } from '../../webgpu/tensor';
import { throwIfStopped, type ImageInput } from '../engine';
import type { SafetensorsFile } from '../safetensors';
import type { LlamaDecoder } from './llama-decoder';
import { Scope } from './ops';
import { Weights, type WeightOptions } from './weights';

export abstract class NativeVlm {
  readonly weights: Weights;
  abstract readonly decoder: LlamaDecoder;

  constructor(
    readonly rt: GpuRuntime,
    file: SafetensorsFile,
    options: WeightOptions = {},
  ) {
    this.weights = new Weights(rt, file, options);
  }

  /** The prompt's image placeholder id: each of its runs takes one image input's features. */
  abstract get imageTokenId(): number;

  /** [channels, size, size] of one image input (an image, or a tile of one). */
  protected abstract get pixelShape(): readonly [number, number, number];

  /** pixel_values of one image input [3, S, S] -> its features in the decoder's width [rows, D]. */
  abstract imageFeatures(s: Scope, pixels: Tensor): Tensor;

  /**
   * Image features of each input, finished before the decoder runs so the
   * time spent encoding can be measured apart. Each input is recorded in its
   * own scope and submitted, and its activations go back to the pool before
   * the next one is recorded: only its feature rows are kept (copied into
   * `s`), so the memory an encode needs does not grow with the tile count.
   * With a signal, each input is also a point to stop at.
   */
  async encodeImages(s: Scope, pixels: readonly Float32Array[], signal?: AbortSignal): Promise<Tensor[]> {
    const shape = this.pixelShape;
    const want = shape[0] * shape[1] * shape[2];
    const feats: Tensor[] = [];
    for (const [i, px] of pixels.entries()) {
      throwIfStopped(signal);
      if (px.length !== want) throw new RangeError(`image input ${i} has ${px.length} values; the vision tower takes [${shape.join(', ')}]`);
      const tile = new Scope(this.rt);
      try {
        const f = this.imageFeatures(tile, tile.upload(px, shape, `image.${i}`));
        const kept = s.empty(f.shape, `image.${i}.features`);
        this.rt.copy(f, 0, kept, 0, numel(f.shape));
        feats.push(kept);
        this.rt.submit();
      } finally {
        tile.release();
      }
      if (signal || i === pixels.length - 1) await this.rt.device.queue.onSubmittedWorkDone();
    }
    throwIfStopped(signal);
    return feats;
  }

  /**
   * Token embeddings [T, D] with the features written over the image tokens
   * in order: input i's rows fill the next rows(i) image positions. Each
   * contiguous run of positions is one copy.
   */
  mergedEmbeddings(s: Scope, ids: Int32Array, features: readonly Tensor[]): Tensor {
    const d = this.decoder.config.hiddenSize;
    const embeds = this.decoder.embed(s, s.upload(ids, [ids.length], 'prompt.ids'));
    const positions: number[] = [];
    ids.forEach((id, i) => {
      if (id === this.imageTokenId) positions.push(i);
    });
    const rows = features.map((f) => f.shape[0] as number);
    const need = rows.reduce((a, r) => a + r, 0);
    if (positions.length !== need) {
      throw new Error(`the prompt has ${positions.length} image tokens but its ${features.length} image input(s) need ${need}`);
    }
    let next = 0;
    features.forEach((feats, input) => {
      const mine = positions.slice(next, next + (rows[input] as number));
      next += mine.length;
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
   * Prefill a prompt (with its image inputs) into the cache; returns the last
   * position's logits and the encode time. With a signal the work is
   * submitted input by input and layer by layer, and a Stop ends it there.
   */
  prefill(cache: KvCache, ids: Int32Array, pixels: readonly Float32Array[], signal?: AbortSignal): Promise<{ logits: Float32Array; encodeMs: number }> {
    return this.prefillWith(cache, ids, pixels.length > 0 ? (s) => this.encodeImages(s, pixels, signal) : null, signal);
  }

  /** prefill() for the engine's image inputs: each one's pixels is one input of pixelShape. */
  prefillInputs(cache: KvCache, ids: Int32Array, images: readonly ImageInput[], signal?: AbortSignal): Promise<{ logits: Float32Array; encodeMs: number }> {
    return this.prefill(cache, ids, images.map((i) => i.pixels), signal);
  }

  /**
   * prefill() with the image features made by `encode` (null: a text-only
   * prompt), timed apart, for a model whose image input is more than one
   * pixel tensor (LLaVA-NeXT's views).
   */
  async prefillWith(cache: KvCache, ids: Int32Array, encode: ((s: Scope) => Promise<Tensor[]>) | null, signal?: AbortSignal): Promise<{ logits: Float32Array; encodeMs: number }> {
    const s = new Scope(this.rt);
    try {
      const t0 = performance.now();
      const features = encode ? await encode(s) : [];
      const encodeMs = performance.now() - t0;
      // The tower's temporaries are free in the pool now: give them back to the device before the decoder makes its own (other sizes), so the peak is the larger of the two, not their sum.
      if (encode) this.rt.trim();
      const logits = await this.decoder.stepInChunks(s, this.mergedEmbeddings(s, ids, features), cache, signal);
      return { logits: await this.rt.readF32(logits), encodeMs };
    } finally {
      this.rt.discardStep();
      s.release();
    }
  }

  /** One decode step for a single new token: the step is recorded whole and submitted, then its logits are the one read back. */
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

  /**
   * decodeStep() for greedy search: the argmax of the logits runs on the GPU
   * in the same submit and only the chosen id (4 bytes) is read back, the
   * lowest index on ties as argmax() on the host.
   */
  async decodeArgmax(cache: KvCache, id: number): Promise<number> {
    const s = new Scope(this.rt);
    try {
      const embeds = this.decoder.embed(s, s.upload(new Int32Array([id]), [1], 'token.id'));
      const logits = this.decoder.step(s, embeds, cache);
      const best = s.empty([1], 'token.argmax', 'i32');
      this.rt.run(argmax, [logits], [best], { rows: 1, vocab: this.decoder.config.vocabSize });
      return (await this.rt.read(best))[0] as number;
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
