/**
 * The chat loop of a family that prepares its own prompt and image inputs
 * for a VlmEngine (SmolVLM, LLaVA-NeXT): check the images against the
 * messages, encode, fit the context, prefill (a Stop there ends the turn
 * empty), then sample with the engine's decode steps, streaming the text the
 * tokenizer makes of the ids so far. A family says only how it encodes.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatModel, ChatModelInfo, ChatModelResult } from './chat-model';
import { PrefillCancelled, type EngineStats, type ImageInput, type VlmEngine } from './engine';
import { generate, type SamplingOptions } from './generation';
import type { ImagePixels } from './image-processing';
import { readJsonFile, type ModelFiles } from './model-files';
import { loadChatTokenizer, loadStopTokenIds } from './repo-tokenizer';
import { ContextLengthError, type ChatMessage } from './vlm';

/** What a family's chat model reads from its repo besides the weights. */
export interface EngineChatAssets<Config, Preprocessor> {
  config: Config;
  preprocessor: Preprocessor;
  tokenizer: PreTrainedTokenizer;
  stopTokenIds: number[];
}

/**
 * preprocessor_config.json through the family's parser, the tokenizer (the hub
 * ships the template in chat_template.json as well as, or instead of,
 * tokenizer_config.json) and the stop ids (config.json's eos and
 * generation_config.json's), beside the config the family parsed already.
 */
export async function loadEngineChatAssets<Config extends { text: { eosTokenIds: readonly number[] } }, Preprocessor>(
  files: ModelFiles,
  config: Config,
  parsePreprocessor: (raw: unknown) => Preprocessor,
): Promise<EngineChatAssets<Config, Preprocessor>> {
  const preprocessor = parsePreprocessor(await readJsonFile(files, 'preprocessor_config.json'));
  const tokenizer = await loadChatTokenizer(files);
  const stopTokenIds = await loadStopTokenIds(files, config.text.eosTokenIds);
  return { config, preprocessor, tokenizer, stopTokenIds };
}

/** The info of a chat model on the native engine: chat questions, the engine's context. */
export function nativeChatInfo(engine: VlmEngine, modelType: string, dtype: string, readsPageText: boolean): ChatModelInfo {
  return { engine: engine.kind, modelType, contextLength: engine.contextLength, device: 'native', dtype, questions: 'chat', readsPageText };
}

/** How many image parts the messages name. */
function imageParts(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => n + (typeof m.content === 'string' ? 0 : m.content.filter((p) => p.type === 'image').length), 0);
}

export abstract class EngineChatModel implements ChatModel {
  abstract readonly info: ChatModelInfo;

  constructor(
    readonly engine: VlmEngine,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly stopTokenIds: readonly number[],
  ) {}

  /** The messages through the repo's chat template, ending in the generation prompt: the text a family expands its images in. */
  protected chatText(messages: readonly ChatMessage[]): string {
    return this.tokenizer.apply_chat_template(messages as never, { tokenize: false, add_generation_prompt: true }) as string;
  }

  /** The ids of an expanded prompt (its special tokens are in the text already). */
  protected promptIds(prompt: string): Int32Array {
    return Int32Array.from(this.tokenizer.encode(prompt, { add_special_tokens: false }));
  }

  /** The prompt ids and the engine's image inputs, in prompt order. */
  protected abstract prompt(messages: readonly ChatMessage[], images: readonly ImagePixels[]): { ids: Int32Array; inputs: ImageInput[] };

  async chat(
    messages: readonly ChatMessage[],
    images: readonly ImagePixels[],
    options: Partial<SamplingOptions>,
    onText: (piece: string) => void = () => undefined,
    signal?: AbortSignal,
  ): Promise<ChatModelResult> {
    const wanted = imageParts(messages);
    if (wanted !== images.length) throw new RangeError(`the messages name ${wanted} image(s) but ${images.length} were given`);
    const { ids, inputs } = this.prompt(messages, images);
    if (ids.length + 1 > this.engine.contextLength) throw new ContextLengthError(ids.length, this.engine.contextLength);
    const budget = Math.min(options.maxNewTokens ?? 128, this.engine.contextLength - ids.length);
    const base = { promptTokens: ids.length, promptRecomputed: false };
    let first: Float32Array;
    try {
      first = await this.engine.prefill(ids, inputs, signal);
    } catch (err) {
      if (err instanceof PrefillCancelled) return { ...base, text: '', ids: [], finishReason: 'cancelled', reusedPositions: this.engine.reusedPositions };
      throw err;
    }
    const out: number[] = [];
    let text = '';
    const stopTokenIds = options.stopTokenIds ?? [...this.stopTokenIds];
    const result = await generate(first, (id) => this.engine.decode(id), { ...options, maxNewTokens: budget, stopTokenIds }, Array.from(ids), (id) => {
      out.push(id);
      const next = this.tokenizer.decode(out, { skip_special_tokens: true });
      onText(next.slice(text.length));
      text = next;
    }, signal, this.engine.decodeGreedy?.bind(this.engine));
    return { ...base, text, ids: result.ids, finishReason: result.finishReason, reusedPositions: this.engine.reusedPositions };
  }

  stats(): EngineStats {
    return this.engine.stats();
  }

  dispose(): Promise<void> {
    return this.engine.dispose();
  }
}
