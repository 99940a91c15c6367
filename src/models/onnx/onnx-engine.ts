/**
 * The ONNX engine: onnxruntime-web sessions over the model's onnx-community
 * files (vision_encoder.onnx = vision tower + projector, embed_tokens.onnx,
 * decoder_model_merged.onnx with past_key_values in and present out), driven
 * by our pipeline. On WebGPU the KV cache stays on the GPU between steps.
 */
import type * as Ort from 'onnxruntime-web';
import type { LlavaConfig } from '../config';
import { throwIfStopped, type EngineStats, type ImageInput, type VlmEngine } from '../engine';
import type { ModelFiles } from '../model-files';
import { PromptCache } from '../prompt-cache';

export type OrtModule = typeof Ort;
export type OrtProvider = 'webgpu' | 'wasm';

interface Sessions {
  vision: Ort.InferenceSession;
  embed: Ort.InferenceSession;
  decoder: Ort.InferenceSession;
}

export class OnnxEngine implements VlmEngine {
  readonly kind = 'onnx';
  readonly contextLength: number;
  private past: Record<string, Ort.Tensor> = {};
  private pastLength = 0;
  private readonly prompt: PromptCache;
  private reused = 0;
  private encodeMs = 0;

  private constructor(
    private readonly ort: OrtModule,
    private readonly sessions: Sessions,
    private readonly config: LlavaConfig,
    private readonly provider: OrtProvider,
    readonly modelBytes: number,
  ) {
    this.contextLength = config.text.maxPositions;
    this.prompt = new PromptCache(config.imageTokenIndex);
  }

  static async create(ort: OrtModule, files: ModelFiles, config: LlavaConfig, provider: OrtProvider): Promise<OnnxEngine> {
    let bytes = 0;
    const open = async (name: string) => {
      const data = new Uint8Array(await files.bytes(`onnx/${name}`));
      bytes += data.byteLength;
      return ort.InferenceSession.create(data, {
        executionProviders: [provider],
        // Keep the KV cache where the decoder wrote it; only logits come back to the host.
        ...(provider === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      });
    };
    const vision = await open('vision_encoder.onnx');
    const embed = await open('embed_tokens.onnx');
    const decoder = await open('decoder_model_merged.onnx');
    return new OnnxEngine(ort, { vision, embed, decoder }, config, provider, bytes);
  }

  get reusedPositions(): number {
    return this.reused;
  }

  private resetPast(): void {
    for (const t of Object.values(this.past)) t.dispose();
    const tc = this.config.text;
    this.past = {};
    for (let l = 0; l < tc.numLayers; l++) {
      for (const kind of ['key', 'value']) {
        this.past[`past_key_values.${l}.${kind}`] = new this.ort.Tensor('float32', new Float32Array(0), [1, tc.numKvHeads, 0, tc.headDim]);
      }
    }
    this.pastLength = 0;
  }

  private async hostData(t: Ort.Tensor): Promise<Float32Array> {
    return (this.provider === 'webgpu' ? await t.getData(true) : t.data) as Float32Array;
  }

  private async imageFeatures(images: readonly ImageInput[], signal?: AbortSignal): Promise<Float32Array[]> {
    const size = this.config.vision.imageSize;
    const out: Float32Array[] = [];
    for (const img of images) {
      throwIfStopped(signal);
      const r = await this.sessions.vision.run({ pixel_values: new this.ort.Tensor('float32', img.pixels, [1, 3, size, size]) });
      out.push(await this.hostData(r.image_features as Ort.Tensor));
    }
    return out;
  }

  private async embeddings(ids: Int32Array, features: readonly Float32Array[]): Promise<Float32Array> {
    const r = await this.sessions.embed.run({ input_ids: new this.ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]) });
    const x = new Float32Array(await this.hostData(r.inputs_embeds as Ort.Tensor));
    const d = this.config.text.hiddenSize;
    let row = 0;
    ids.forEach((id, t) => {
      if (id !== this.config.imageTokenIndex) return;
      const img = features[Math.floor(row / this.config.imageSeqLength)];
      if (!img) throw new Error(`the prompt has more image tokens than ${features.length} image(s) provide`);
      const r = row % this.config.imageSeqLength;
      x.set(img.subarray(r * d, (r + 1) * d), t * d);
      row++;
    });
    return x;
  }

  /** Decoder over new embeddings [T, D]; returns the last position's logits. */
  private async step(embeds: Float32Array, t: number): Promise<Float32Array> {
    const p = this.pastLength;
    const d = this.config.text.hiddenSize;
    const out = await this.sessions.decoder.run({
      inputs_embeds: new this.ort.Tensor('float32', embeds, [1, t, d]),
      attention_mask: new this.ort.Tensor('int64', new BigInt64Array(p + t).fill(1n), [1, p + t]),
      position_ids: new this.ort.Tensor('int64', BigInt64Array.from({ length: t }, (_, i) => BigInt(p + i)), [1, t]),
      ...this.past,
    });
    for (const t0 of Object.values(this.past)) t0.dispose();
    this.past = {};
    const tc = this.config.text;
    for (let l = 0; l < tc.numLayers; l++) {
      for (const kind of ['key', 'value']) this.past[`past_key_values.${l}.${kind}`] = out[`present.${l}.${kind}`] as Ort.Tensor;
    }
    this.pastLength = p + t;
    const logits = out.logits as Ort.Tensor;
    const all = await this.hostData(logits);
    logits.dispose();
    const v = tc.vocabSize;
    return all.slice((t - 1) * v, t * v);
  }

  async prefill(ids: Int32Array, images: readonly ImageInput[], signal?: AbortSignal): Promise<Float32Array> {
    const keys = images.map((i) => i.key);
    const keep = this.prompt.reusable(ids, keys);
    // The past lives in opaque (often GPU) tensors: only a pure extension of it is reused.
    if (keep !== this.prompt.length || this.pastLength !== this.prompt.length || keep === 0) this.resetPast();
    this.reused = this.pastLength;
    const skipImages = this.prompt.imagesBefore(ids, this.reused);
    const t0 = performance.now();
    const features = await this.imageFeatures(images.slice(skipImages), signal);
    this.encodeMs = performance.now() - t0;
    // The decoder runs the prompt as one session call; a Stop is heard before it starts.
    throwIfStopped(signal);
    const tail = ids.subarray(this.reused);
    const logits = await this.step(await this.embeddings(tail, features), tail.length);
    this.prompt.filled(ids, keys);
    return logits;
  }

  async decode(id: number): Promise<Float32Array> {
    const logits = await this.step(await this.embeddings(Int32Array.of(id), []), 1);
    this.prompt.appended(id);
    return logits;
  }

  stats(): EngineStats {
    // ORT does not report its allocations; the weights it holds are the floor.
    const tc = this.config.text;
    const kvBytes = 2 * tc.numLayers * tc.numKvHeads * tc.headDim * this.pastLength * 4;
    return { encodeMs: this.encodeMs, peakGpuBytes: this.modelBytes + kvBytes };
  }

  async dispose(): Promise<void> {
    for (const t of Object.values(this.past)) t.dispose();
    this.past = {};
    await Promise.all([this.sessions.vision.release(), this.sessions.embed.release(), this.sessions.decoder.release()]);
  }
}
