/**
 * LLaVA-NeXT (llava_next) on our native engine as a ChatModel: the chat
 * template from the repo's tokenizer files, every image through the AnyRes
 * processor and its <image> repeated to the image's token count, then the
 * engine (one ImageInput per image, all its views) and sampling, streamed.
 */
import { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatModel, ChatModelInfo, ChatModelResult } from './chat-model';
import { parseLlavaConfig, type LlavaConfig } from './config';
import { PrefillCancelled, type EngineStats, type VlmEngine } from './engine';
import { generate, type SamplingOptions } from './generation';
import type { ImagePixels } from './image-processing';
import { expandLlavaNextPrompt, parseLlavaNextPreprocessor, preprocessLlavaNext, type LlavaNextPreprocessor } from './llava-next-processing';
import { readJsonFile, type ModelFiles } from './model-files';
import { anyresInput, type AnyresImageInput } from './native/llava-next-engine';
import { ContextLengthError, type ChatMessage } from './vlm';

export interface LlavaNextAssets {
  config: LlavaConfig;
  preprocessor: LlavaNextPreprocessor;
  tokenizer: PreTrainedTokenizer;
  stopTokenIds: number[];
}

/** config.json, preprocessor_config.json, the tokenizer (template from chat_template.json when the tokenizer config has none) and generation_config.json. */
export async function loadLlavaNextAssets(files: ModelFiles): Promise<LlavaNextAssets> {
  const config = parseLlavaConfig(await readJsonFile(files, 'config.json'));
  const preprocessor = parseLlavaNextPreprocessor(await readJsonFile(files, 'preprocessor_config.json'), config);
  const tokenizerConfig = await readJsonFile<Record<string, unknown>>(files, 'tokenizer_config.json');
  if (tokenizerConfig.chat_template === undefined) {
    const template = await readJsonFile<{ chat_template?: string }>(files, 'chat_template.json').catch(() => ({}) as { chat_template?: string });
    if (template.chat_template) tokenizerConfig.chat_template = template.chat_template;
  }
  const tokenizer = new PreTrainedTokenizer(await readJsonFile(files, 'tokenizer.json'), tokenizerConfig);
  const generation = await readJsonFile<{ eos_token_id?: number | number[] }>(files, 'generation_config.json').catch(() => ({}) as { eos_token_id?: number | number[] });
  const eos = generation.eos_token_id;
  const stopTokenIds = [...new Set([...config.text.eosTokenIds, ...(Array.isArray(eos) ? eos : typeof eos === 'number' ? [eos] : [])])];
  return { config, preprocessor, tokenizer, stopTokenIds };
}

export class LlavaNextChatModel implements ChatModel {
  readonly info: ChatModelInfo;

  constructor(
    readonly assets: LlavaNextAssets,
    readonly engine: VlmEngine,
    dtype: string,
  ) {
    this.info = { engine: engine.kind, modelType: 'llava_next', contextLength: engine.contextLength, device: 'native', dtype, questions: 'chat', readsPageText: false };
  }

  /** The prompt ids and every image's views, in prompt order. */
  encode(messages: readonly ChatMessage[], images: readonly ImagePixels[]): { ids: Int32Array; images: AnyresImageInput[] } {
    const { tokenizer, preprocessor, config } = this.assets;
    const chat = tokenizer.apply_chat_template(messages as never, { tokenize: false, add_generation_prompt: true }) as string;
    const side = config.vision.imageSize / config.vision.patchSize / config.imagePooling;
    const processed = images.map((img) => preprocessLlavaNext(img, preprocessor, side));
    const prompt = expandLlavaNextPrompt(chat, processed);
    const ids = Int32Array.from(tokenizer.encode(prompt, { add_special_tokens: false }));
    return { ids, images: processed.map((p) => anyresInput(p.views, p.size)) };
  }

  async chat(
    messages: readonly ChatMessage[],
    images: readonly ImagePixels[],
    options: Partial<SamplingOptions>,
    onText: (piece: string) => void = () => undefined,
    signal?: AbortSignal,
  ): Promise<ChatModelResult> {
    const wanted = messages.reduce((n, m) => n + (typeof m.content === 'string' ? 0 : m.content.filter((p) => p.type === 'image').length), 0);
    if (wanted !== images.length) throw new RangeError(`the messages name ${wanted} image(s) but ${images.length} were given`);
    const { ids, images: inputs } = this.encode(messages, images);
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
    const stopTokenIds = options.stopTokenIds ?? this.assets.stopTokenIds;
    const result = await generate(first, (id) => this.engine.decode(id), { ...options, maxNewTokens: budget, stopTokenIds }, Array.from(ids), (id) => {
      out.push(id);
      const next = this.assets.tokenizer.decode(out, { skip_special_tokens: true });
      onText(next.slice(text.length));
      text = next;
    }, signal);
    return { ...base, text, ids: result.ids, finishReason: result.finishReason, reusedPositions: this.engine.reusedPositions };
  }

  stats(): EngineStats {
    return this.engine.stats();
  }

  dispose(): Promise<void> {
    return this.engine.dispose();
  }
}
