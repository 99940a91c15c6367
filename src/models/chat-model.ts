/**
 * What the worker needs from a loaded model, whichever engine runs it: our
 * pipeline (Vlm over the native or ONNX engine, which preprocesses images
 * itself) or @huggingface/transformers' model classes (whose processors
 * preprocess and expand image tokens). Both take decoded pixels, stream text
 * and end with the same result, so the worker can hold either.
 */
import type { EngineKind, EngineStats } from './engine';
import type { SamplingOptions } from './generation';
import type { ImagePixels } from './image-processing';
import type { ChatMessage, ChatResult, Vlm } from './vlm';

export type ChatEngineKind = EngineKind;

export interface ChatModelInfo {
  engine: ChatEngineKind;
  /** config.json model_type. */
  modelType: string;
  /** Context positions the model can hold (prompt plus answer). */
  contextLength: number;
  /** Where it runs: 'webgpu', 'wasm', 'cpu' (Node), or 'native' for our WGSL engine. */
  device: string;
  /** The weights' dtype as the picker names it (f32, int8, fp16, q4, ...). */
  dtype: string;
  /** How it takes a question: free-form in a chat ('chat'), or only as one of its task prompts ('tasks', Florence-2). */
  questions: 'chat' | 'tasks';
  /** Whether a question about a page goes with the page's text in the prompt (chat models read it; the bundled model was trained on it). */
  readsPageText: boolean;
}

export interface ChatModelResult extends ChatResult {
  /**
   * True when an earlier turn was answered but its cache could not be reused,
   * so the whole prompt ran again (the family's library cannot continue its
   * cache, or the conversation changed before the cached part).
   */
  promptRecomputed: boolean;
  /** Why the prompt was recomputed; absent when it was not. */
  recomputeReason?: string;
}

export interface ChatModel {
  readonly info: ChatModelInfo;
  /**
   * Answer the conversation; `images` are the decoded pixels of every image
   * part of `messages`, in order. Text streams through onText; `signal` stops
   * between tokens.
   */
  chat(
    messages: readonly ChatMessage[],
    images: readonly ImagePixels[],
    options: Partial<SamplingOptions>,
    onText?: (piece: string) => void,
    signal?: AbortSignal,
  ): Promise<ChatModelResult>;
  /** Forgets what the model kept from earlier turns (a KV cache), so the next answer is a fresh load's; absent where nothing is kept. */
  reset?(): Promise<void>;
  stats(): EngineStats;
  dispose(): Promise<void>;
}

/** Our pipeline as a ChatModel: it preprocesses the pixels and keeps Vlm's behaviour as it is. */
export class VlmChatModel implements ChatModel {
  readonly info: ChatModelInfo;

  /**
   * `device`: where the engine runs ('webgpu' or 'wasm' for the ONNX engine); the native engine is always 'native'.
   * `readsPageText`: the model was trained to answer from a page's text (the zoo's 'document-text').
   */
  constructor(
    readonly vlm: Vlm,
    dtype: string,
    device = 'webgpu',
    readsPageText = false,
  ) {
    const where = vlm.engine.kind === 'native' ? 'native' : device;
    this.info = { engine: vlm.engine.kind, modelType: 'llava', contextLength: vlm.engine.contextLength, device: where, dtype, questions: 'chat', readsPageText };
  }

  async chat(
    messages: readonly ChatMessage[],
    images: readonly ImagePixels[],
    options: Partial<SamplingOptions>,
    onText?: (piece: string) => void,
    signal?: AbortSignal,
  ): Promise<ChatModelResult> {
    const inputs = images.map((img) => this.vlm.preprocess(img));
    const r = await this.vlm.chat(messages, inputs, options, onText, signal);
    // Our engines reuse the cache wherever the prompt allows, so nothing is recomputed for want of support.
    return { ...r, promptRecomputed: false };
  }

  stats(): EngineStats {
    return this.vlm.engine.stats();
  }

  dispose(): Promise<void> {
    return this.vlm.engine.dispose();
  }
}

/** A key for decoded pixels: equal pixels, equal keys (for cache reuse across turns). */
export function pixelsKey(img: ImagePixels): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < img.data.length; i++) {
    h ^= img.data[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return `${img.width}x${img.height}x${img.channels}-${(h >>> 0).toString(16)}`;
}
