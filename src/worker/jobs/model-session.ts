/**
 * The loaded model inside the worker: loading (either engine, optional int8/int4
 * weights), chat with streaming and a stop, and the golden check that proves
 * an engine reproduces the PyTorch reference on this device.
 */
import { decodePngRaster } from '../../data/png';
import { VlmChatModel, type ChatModel } from '../../models/chat-model';
import type { VlmEngine } from '../../models/engine';
import { groundingQuestion, parseGrounding } from '../../models/grounding';
import { decodeImageBytes, ImageDecodeError } from '../../models/image-decode';
import type { ImagePixels } from '../../models/image-processing';
import { ModelFileError, readJsonFile, urlModelFiles, type ModelFiles } from '../../models/model-files';
import { NativeEngine } from '../../models/native/native-engine';
import { SafetensorsError, SafetensorsFile } from '../../models/safetensors';
import { ContextLengthError, loadModelAssets, Vlm } from '../../models/vlm';
import { ConfigError, modelTypeOf } from '../../models/config';
import { NativeIdefics3Engine } from '../../models/native/idefics3-engine';
import { loadSmolVlmAssets, SmolVlmChatModel } from '../../models/smolvlm';
import { LlavaNextChatModel, loadLlavaNextAssets } from '../../models/llava-next';
import { NativeLlavaNextEngine } from '../../models/native/llava-next-engine';
import { MissingDtypeFileError, UnsupportedModelError } from '../../models/transformers/families';
import { TransformersVlm, type TjsDevice } from '../../models/transformers/transformers-vlm';
import { GpuUnavailableError } from '../../webgpu/device';
import { GpuOutOfMemoryError } from '../../webgpu/errors';
import type { GpuRuntime } from '../../webgpu/runtime';
import { compareGolden } from '../../webgpu/verify/golden';
import type { ChatImage, ChatMessage, ChatReply, ChatRequest, GoldenCheckResult, GroundReply, LoadedModel, LoadModelOptions, WeightDType } from '../api';
import type { TransformersFiles } from '../cache/transformers-files';
import { VlmError } from '../errors';
import { chooseTransformersDevice, type DeviceChooser } from './transformers-device';
import { FLORENCE_TASKS, taskRegions } from './florence-answer';
import type { PageModel } from './document-question';
import { resolveEntry } from '../cache/model-library';

/** Model files are served from here: the bundled model, and later the IndexedDB-backed hub cache. */
export const MODELS_BASE = '/models/';

/** Turns loader failures into errors the UI can act on. */
function asVlmError(err: unknown): unknown {
  if (err instanceof ModelFileError) return new VlmError('model-file', err.message);
  if (err instanceof SafetensorsError || err instanceof ConfigError) return new VlmError('model-file', err.message);
  if (err instanceof ContextLengthError) return new VlmError('context-length', err.message);
  if (err instanceof ImageDecodeError) return new VlmError('bad-image', err.message);
  if (err instanceof RangeError) return new VlmError('bad-input', err.message);
  if (err instanceof GpuOutOfMemoryError) return new VlmError('out-of-memory', err.message);
  if (err instanceof UnsupportedModelError) return new VlmError('unsupported-model', `${err.message}.`);
  if (err instanceof MissingDtypeFileError) return new VlmError('model-file', `${err.message}.`);
  return err;
}

/** Whether the last user message carries neither words nor an image: the model would answer a blank prompt with noise. */
export function isEmptyQuestion(messages: readonly ChatMessage[]): boolean {
  const last = messages.findLast((m) => m.role === 'user');
  if (!last) return true;
  if (typeof last.content === 'string') return last.content.trim() === '';
  return !last.content.some((p) => p.type === 'image' || p.text.trim() !== '');
}

export class ModelSession {
  /** What answers: our pipeline (native, onnx) or the transformers engine. */
  private model: ChatModel | null = null;
  /** Our pipeline under `model`, for the golden check's direct engine steps; null on the transformers engine. */
  private vlm: Vlm | null = null;
  private loaded: LoadedModel | null = null;
  private stop: AbortController | null = null;

  constructor(
    private readonly runtime: () => Promise<GpuRuntime>,
    private readonly transformersDevice: DeviceChooser = chooseTransformersDevice,
  ) {}

  async load(id: string, options: LoadModelOptions, files: ModelFiles = urlModelFiles(id, `${MODELS_BASE}${id}/`)): Promise<LoadedModel> {
    await this.unload();
    try {
      const t0 = performance.now();
      const modelType = modelTypeOf(await readJsonFile(files, 'config.json'));
      if (modelType === 'idefics3') return await this.loadSmolVlm(id, options, files, t0);
      if (modelType === 'llava_next') return await this.loadLlavaNext(id, options, files, t0);
      const assets = await loadModelAssets(files);
      const engine = await this.createEngine(files, assets.config, options);
      const dtype: WeightDType = options.engine === 'native' ? ((options.dtype as WeightDType | undefined) ?? 'f32') : 'f32';
      this.vlm = new Vlm(assets, engine);
      // Models loaded by id read as the picker lists them (a folder under /models/ reads like the bundled model).
      this.model = new VlmChatModel(this.vlm, dtype, options.engine === 'onnx' ? 'webgpu' : 'native', resolveEntry(id).capabilities.includes('document-text'));
      this.loaded = {
        id,
        engine: options.engine,
        dtype,
        device: this.model.info.device,
        contextLength: engine.contextLength,
        imageSize: assets.config.vision.imageSize,
        loadMs: performance.now() - t0,
        readsPageText: this.model.info.readsPageText,
      };
      return this.loaded;
    } catch (err) {
      throw asVlmError(err);
    }
  }

  /** SmolVLM (Idefics3) on the native engine: its own processor and prompt, our SigLIP tower, connector and decoder. */
  private async loadSmolVlm(id: string, options: LoadModelOptions, files: ModelFiles, t0: number): Promise<LoadedModel> {
    if (options.engine !== 'native') throw new VlmError('unsupported-model', `${id} (idefics3) runs on the native and transformers engines, not on ${options.engine}.`);
    const assets = await loadSmolVlmAssets(files);
    const dtype: WeightDType = (options.dtype as WeightDType | undefined) ?? 'f32';
    const rt = await this.runtime();
    const file = new SafetensorsFile(await files.bytes('model.safetensors'), `${files.id}/model.safetensors`);
    const made: { engine?: NativeIdefics3Engine } = {};
    let engine: NativeIdefics3Engine;
    try {
      engine = await rt.allocating(`the weights of ${files.id}`, () => (made.engine = new NativeIdefics3Engine(rt, assets.config, file, { dtype })));
    } catch (err) {
      await made.engine?.dispose();
      throw err;
    }
    this.model = new SmolVlmChatModel(assets, engine, dtype);
    this.loaded = { id, engine: 'native', dtype, device: 'native', contextLength: engine.contextLength, imageSize: assets.config.vision.imageSize, loadMs: performance.now() - t0, readsPageText: this.model.info.readsPageText };
    return this.loaded;
  }

  /** LLaVA-NeXT on the native engine: the AnyRes processor and prompt, LLaVA's tower, projector and decoder, image_newline packing. */
  private async loadLlavaNext(id: string, options: LoadModelOptions, files: ModelFiles, t0: number): Promise<LoadedModel> {
    if (options.engine !== 'native') throw new VlmError('unsupported-model', `${id} (llava_next) runs on the native engine, not on ${options.engine}.`);
    const assets = await loadLlavaNextAssets(files);
    const dtype: WeightDType = (options.dtype as WeightDType | undefined) ?? 'f32';
    const rt = await this.runtime();
    const file = new SafetensorsFile(await files.bytes('model.safetensors'), `${files.id}/model.safetensors`);
    const made: { engine?: NativeLlavaNextEngine } = {};
    let engine: NativeLlavaNextEngine;
    try {
      engine = await rt.allocating(`the weights of ${files.id}`, () => (made.engine = new NativeLlavaNextEngine(rt, assets.config, file, { dtype })));
    } catch (err) {
      await made.engine?.dispose();
      throw err;
    }
    this.model = new LlavaNextChatModel(assets, engine, dtype);
    this.loaded = { id, engine: 'native', dtype, device: 'native', contextLength: engine.contextLength, imageSize: assets.config.vision.imageSize, loadMs: performance.now() - t0, readsPageText: this.model.info.readsPageText };
    return this.loaded;
  }

  /**
   * Loads a hub model on transformers.js from files already in the weight cache
   * (see transformers-files.ts), on `device` when given, else where the adapter suggests.
   */
  async loadTransformers(id: string, prepared: Omit<TransformersFiles, 'files'> & { files?: string[] }, device?: TjsDevice): Promise<LoadedModel> {
    await this.unload();
    try {
      const t0 = performance.now();
      // Asked even when `device` is given: choosing also points ORT at the wasm files served with the app.
      const suggested = await this.transformersDevice();
      device ??= suggested;
      const model = await TransformersVlm.load(id, { source: prepared.source, device, dtype: prepared.dtype, ...(prepared.files ? { files: prepared.files } : {}) });
      this.model = model;
      // The processor picks each image's size (tiles, patches): there is no one input size.
      this.loaded = { id, engine: 'transformers', dtype: prepared.dtype, device, contextLength: model.info.contextLength, imageSize: 0, loadMs: performance.now() - t0, readsPageText: model.info.readsPageText };
      if (model.family.kind === 'florence2') this.loaded.tasks = [...FLORENCE_TASKS];
      return this.loaded;
    } catch (err) {
      throw asVlmError(err);
    }
  }

  /** The bundled model (its onnx/ folder is in transformers.js's layout) on the transformers engine, fp32 as golden.json was made. */
  loadBundledTransformers(id: string, options: LoadModelOptions): Promise<LoadedModel> {
    return this.loadTransformers(id, { source: { kind: 'local', path: MODELS_BASE }, dtype: 'fp32' }, options.device);
  }

  private async createEngine(files: ModelFiles, config: Vlm['config'], options: LoadModelOptions): Promise<VlmEngine> {
    // The ONNX engine runs on ORT's WebGPU execution provider, the one it is compared against.
    if (options.engine === 'onnx') {
      // onnxruntime-web is a large bundle: load it only when the ONNX engine is chosen.
      const [{ OnnxEngine }, { browserOrt }] = await Promise.all([import('../../models/onnx/onnx-engine'), import('../../models/onnx/ort-browser')]);
      return OnnxEngine.create(browserOrt(), files, config, 'webgpu');
    }
    const rt = await this.runtime();
    const file = new SafetensorsFile(await files.bytes('model.safetensors'), `${files.id}/model.safetensors`);
    // Made inside the error scope but kept outside it, so a failed upload can still give back what it took.
    const made: { engine?: NativeEngine } = {};
    try {
      return await rt.allocating(`the weights of ${files.id}`, () => (made.engine = new NativeEngine(rt, config, file, { dtype: (options.dtype as WeightDType | undefined) ?? 'f32' })));
    } catch (err) {
      await made.engine?.dispose();
      throw err;
    }
  }

  private current(): ChatModel {
    if (!this.model) throw new VlmError('no-model', 'No model is loaded; load one first.');
    return this.model;
  }

  info(): LoadedModel | null {
    return this.loaded;
  }

  /** Our pipeline on the native engine (fine-tuning trains it); null when none is loaded or another engine runs the model. */
  nativeVlm(): Vlm | null {
    return this.vlm?.engine.kind === 'native' ? this.vlm : null;
  }

  /** The loaded chat model (fine-tuning asks which family and engine it is); null when none is loaded. */
  chatModel(): ChatModel | null {
    return this.model;
  }

  /** How the loaded model takes a question about a page; null when none is loaded. */
  pageModel(): PageModel | null {
    if (!this.model) return null;
    const { questions, readsPageText, contextLength } = this.model.info;
    return { questions, readsPageText, contextLength, ...(this.loaded?.tasks ? { tasks: this.loaded.tasks } : {}) };
  }

  /** Answers a chat; `signal` (the job's) stops it like stopChat(). The caller's job queue keeps it from running beside another. */
  async chat(request: ChatRequest, onText?: (piece: string) => void, signal?: AbortSignal): Promise<ChatReply> {
    if (isEmptyQuestion(request.messages)) throw new VlmError('bad-input', 'The message is empty: type a question (or attach an image) before sending.');
    const model = this.current();
    const images = await this.decodePixels(request.images).catch((err: unknown) => {
      throw asVlmError(err);
    });
    if (request.fresh) await model.reset?.();
    return this.answer(model, request, images, onText, signal);
  }

  private async decodePixels(list: readonly ChatImage[]): Promise<ImagePixels[]> {
    const images: ImagePixels[] = [];
    for (const img of list) {
      const pixels = 'bytes' in img ? await decodeImageBytes(img.bytes, img.type, img.name) : { ...img, channels: 4 as const };
      if (pixels.width < 1 || pixels.height < 1) throw new VlmError('bad-image', `an image is ${pixels.width}x${pixels.height} pixels; it needs at least one pixel.`);
      if (pixels.data.length !== pixels.width * pixels.height * pixels.channels) {
        throw new VlmError('bad-image', `an image says ${pixels.width}x${pixels.height} but carries ${pixels.data.length} bytes, not ${pixels.width * pixels.height * pixels.channels}.`);
      }
      images.push(pixels);
    }
    return images;
  }

  private async answer(model: ChatModel, request: ChatRequest, images: ImagePixels[], onText?: (piece: string) => void, signal?: AbortSignal): Promise<ChatReply> {
    const stop = new AbortController();
    this.stop = stop;
    if (signal?.aborted) stop.abort();
    signal?.addEventListener('abort', () => stop.abort(), { once: true });
    const t0 = performance.now();
    let firstAt = 0;
    try {
      const r = await model.chat(request.messages, images, request.options ?? {}, (piece) => {
        firstAt ||= performance.now();
        onText?.(piece);
      }, stop.signal);
      const end = performance.now();
      const decodeMs = firstAt ? end - firstAt : 0;
      return {
        text: r.text,
        finishReason: r.finishReason,
        promptTokens: r.promptTokens,
        newTokens: r.ids.length,
        reusedPositions: r.reusedPositions,
        ttftMs: firstAt ? firstAt - t0 : end - t0,
        tokensPerSecond: r.ids.length > 1 && decodeMs > 0 ? ((r.ids.length - 1) * 1000) / decodeMs : 0,
        encodeMs: model.stats().encodeMs,
        peakGpuBytes: model.stats().peakGpuBytes,
        promptRecomputed: r.promptRecomputed,
        ...(r.recomputeReason ? { recomputeReason: r.recomputeReason } : {}),
        ...taskRegions(model, request.messages, r.text, images),
      };
    } catch (err) {
      // The model's buffers went with the device: it must be loaded again, and the page can see that it is gone.
      if (err instanceof GpuUnavailableError && err.code === 'device-lost' && this.model === model) this.forget();
      throw asVlmError(err);
    } finally {
      if (this.stop === stop) this.stop = null;
    }
  }

  /**
   * Ask where `phrase` is in one image with the grounding question the model
   * was trained on, and parse the boxes out of the answer (pixels of the image
   * as decoded; huge images are decoded scaled down, see imageSize).
   */
  async ground(image: ChatImage, phrase: string, signal?: AbortSignal): Promise<GroundReply> {
    const model = this.current();
    const question = groundingQuestion(phrase);
    if (!question) throw new VlmError('bad-input', 'Say what to look for, e.g. "red circle".');
    const [pixels] = await this.decodePixels([image]).catch((err: unknown) => {
      throw asVlmError(err);
    });
    if (!pixels) throw new VlmError('bad-image', 'No image was given.');
    const reply = await this.answer(model, { messages: [{ role: 'user', content: [{ type: 'text', text: question }, { type: 'image' }] }], images: [] }, [pixels], undefined, signal);
    const imageSize = { width: pixels.width, height: pixels.height };
    return { question, text: reply.text, imageSize, objects: parseGrounding(reply.text, imageSize) };
  }

  stopChat(): boolean {
    if (!this.stop) return false;
    this.stop.abort();
    return true;
  }

  /**
   * Frees every GPU buffer of the model. The job queue runs it only when no
   * answer uses the model, so nothing is freed under a step in flight.
   */
  async unload(): Promise<void> {
    this.stopChat();
    const model = this.model;
    this.forget();
    await model?.dispose();
  }

  private forget(): void {
    this.model = null;
    this.vlm = null;
    this.loaded = null;
  }

  /** Run the model's golden.json prompt and compare logits and greedy ids with PyTorch's. */
  async goldenCheck(id: string, options: LoadModelOptions): Promise<GoldenCheckResult> {
    const files = urlModelFiles(id, `${MODELS_BASE}${id}/`);
    if (options.engine === 'transformers') await this.loadBundledTransformers(id, options);
    else await this.load(id, options, files);
    const golden = await readJsonFile<Golden>(files, 'golden.json');
    const raster = decodePngRaster(new Uint8Array(await files.bytes(golden.image)));
    const pixels: ImagePixels = { ...raster, channels: 3 };
    const got = this.model instanceof TransformersVlm ? await transformersGolden(this.model, golden, pixels) : await this.ownGolden(golden, pixels);
    return {
      engine: options.engine,
      dtype: (this.loaded?.dtype as WeightDType | undefined) ?? 'f32',
      device: this.loaded?.device ?? '',
      ...compareGolden(got, { logits: golden.logits.values, ids: golden.greedy.ids }),
    };
  }

  /** golden.json's prompt through our pipeline's engine steps: prefill, then greedy decode. */
  private async ownGolden(golden: Golden, pixels: ImagePixels): Promise<{ logits: Float32Array; ids: number[] }> {
    const vlm = this.vlm;
    if (!vlm) throw new VlmError('no-model', 'The golden check runs our own engines; no model is loaded on one.');
    const image = vlm.preprocess(pixels);
    const ids = Int32Array.from(golden.inputs.expanded_input_ids);
    let logits = await vlm.engine.prefill(ids, [image]);
    // Copied before decoding: an engine may reuse its logits buffer.
    const first = logits.slice(0, golden.logits.values.length);
    const greedy: number[] = [];
    for (let i = 0; i < golden.greedy.max_new_tokens; i++) {
      let best = 0;
      for (let j = 1; j < logits.length; j++) if ((logits[j] as number) > (logits[best] as number)) best = j;
      greedy.push(best);
      if (i + 1 < golden.greedy.max_new_tokens) logits = await vlm.engine.decode(best);
    }
    return { logits: first, ids: greedy };
  }
}

interface Golden {
  image: string;
  inputs: { messages: ChatMessage[]; expanded_input_ids: number[] };
  logits: { values: number[] };
  greedy: { ids: number[]; max_new_tokens: number };
}

/** golden.json's prompt on transformers.js: one forward pass for the first-step logits, then its own greedy generation. */
async function transformersGolden(model: TransformersVlm, golden: Golden, pixels: ImagePixels): Promise<{ logits: Float32Array; ids: number[] }> {
  const logits = (await model.nextTokenLogits(golden.inputs.messages, [pixels])).slice(0, golden.logits.values.length);
  await model.reset();
  // The golden runs past the end id (stop_at_eos false): no stop ids here either.
  const r = await model.chat(golden.inputs.messages, [pixels], { maxNewTokens: golden.greedy.max_new_tokens, stopTokenIds: [] });
  return { logits, ids: r.ids };
}
