/**
 * The VLM pipeline a user talks to: chat messages with images -> chat template
 * (@huggingface/transformers' tokenizer, loaded from the model's own files) ->
 * image tokens expanded as HF's LlavaProcessor does -> an engine -> sampled,
 * streamed, detokenized text.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { parseLlavaConfig, type LlavaConfig } from './config';
import { imageKey, PrefillCancelled, type ImageInput, type VlmEngine } from './engine';
import { generate, type FinishReason, type SamplingOptions } from './generation';
import { parsePreprocessorConfig, preprocessImage, type ImagePixels, type PreprocessorConfig } from './image-processing';
import { readJsonFile, type ModelFiles } from './model-files';
import { loadChatTokenizer, loadStopTokenIds } from './repo-tokenizer';

export type ChatPart = { type: 'text'; text: string } | { type: 'image' };
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ChatPart[];
}

/** The prompt does not fit the context; says by how much. */
export class ContextLengthError extends Error {
  override readonly name = 'ContextLengthError';
  constructor(
    readonly promptTokens: number,
    readonly limit: number,
  ) {
    super(`the prompt needs ${promptTokens} tokens but the model's context holds ${limit}; shorten the conversation or remove images`);
  }
}

export interface ChatResult {
  text: string;
  ids: number[];
  finishReason: FinishReason;
  promptTokens: number;
  reusedPositions: number;
}

export interface ModelAssets {
  config: LlavaConfig;
  preprocessor: PreprocessorConfig;
  tokenizer: PreTrainedTokenizer;
  stopTokenIds: number[];
}

export async function loadModelAssets(files: ModelFiles): Promise<ModelAssets> {
  const config = parseLlavaConfig(await readJsonFile(files, 'config.json'));
  const preprocessor = parsePreprocessorConfig(await readJsonFile(files, 'preprocessor_config.json'), config.vision.imageSize);
  const tokenizer = await loadChatTokenizer(files);
  const stopTokenIds = await loadStopTokenIds(files, config.text.eosTokenIds);
  return { config, preprocessor, tokenizer, stopTokenIds };
}

export class Vlm {
  constructor(
    readonly assets: ModelAssets,
    readonly engine: VlmEngine,
  ) {}

  get config(): LlavaConfig {
    return this.assets.config;
  }

  /** Prompt ids with every image token expanded to the model's image_seq_length. */
  encodePrompt(messages: readonly ChatMessage[]): Int32Array {
    const ids = this.assets.tokenizer.apply_chat_template(messages as never, {
      tokenize: true,
      add_generation_prompt: true,
      return_tensor: false,
      return_dict: false,
    }) as number[];
    const imageToken = this.config.imageTokenIndex;
    const out: number[] = [];
    for (const id of ids) {
      if (id === imageToken) for (let i = 0; i < this.config.imageSeqLength; i++) out.push(id);
      else out.push(id);
    }
    return Int32Array.from(out);
  }

  preprocess(image: ImagePixels): ImageInput {
    const { pixels } = preprocessImage(image, this.assets.preprocessor);
    return { pixels, key: imageKey(pixels) };
  }

  /**
   * Answer the conversation: images are the pixels of every image part, in
   * order. Tokens stream through onToken as text pieces; `signal` stops
   * between tokens, or between images and layers while the prompt is read.
   */
  async chat(
    messages: readonly ChatMessage[],
    images: readonly ImageInput[],
    options: Partial<SamplingOptions>,
    onText: (piece: string) => void = () => undefined,
    signal?: AbortSignal,
  ): Promise<ChatResult> {
    const ids = this.encodePrompt(messages);
    const wanted = messages.reduce((n, m) => n + (typeof m.content === 'string' ? 0 : m.content.filter((p) => p.type === 'image').length), 0);
    if (wanted !== images.length) throw new RangeError(`the messages name ${wanted} image(s) but ${images.length} were given`);
    const maxNew = options.maxNewTokens ?? 128;
    if (ids.length + 1 > this.engine.contextLength) throw new ContextLengthError(ids.length, this.engine.contextLength);
    const budget = Math.min(maxNew, this.engine.contextLength - ids.length);
    let first: Float32Array;
    try {
      first = await this.engine.prefill(ids, images, signal);
    } catch (err) {
      if (err instanceof PrefillCancelled) return { text: '', ids: [], finishReason: 'cancelled', promptTokens: ids.length, reusedPositions: this.engine.reusedPositions };
      throw err;
    }
    const out: number[] = [];
    let text = '';
    const result = await generate(
      first,
      (id) => this.engine.decode(id),
      { ...options, maxNewTokens: budget, stopTokenIds: options.stopTokenIds ?? this.assets.stopTokenIds },
      Array.from(ids),
      (id) => {
        out.push(id);
        // Decode the whole answer each time: word-level and byte-level tokens both come out right.
        const next = this.assets.tokenizer.decode(out, { skip_special_tokens: true });
        onText(next.slice(text.length));
        text = next;
      },
      signal,
      this.engine.decodeGreedy?.bind(this.engine),
    );
    return { text, ids: result.ids, finishReason: result.finishReason, promptTokens: ids.length, reusedPositions: this.engine.reusedPositions };
  }
}
