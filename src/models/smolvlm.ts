/**
 * SmolVLM (Idefics3) on our native engine as a ChatModel: the chat template
 * from the repo's tokenizer files, every image split into tiles by the
 * Idefics3 image processor and its <image> expanded into tile blocks, then
 * the engine (one ImageInput per tile) and sampling, streamed as text.
 */
import { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatModel, ChatModelInfo, ChatModelResult } from './chat-model';
import { parseIdefics3Config, type Idefics3Config } from './config';
import { imageKey, PrefillCancelled, type EngineStats, type ImageInput, type VlmEngine } from './engine';
import { generate, type SamplingOptions } from './generation';
import { expandImagePrompt, parseIdefics3Preprocessor, preprocessIdefics3, type Idefics3Preprocessor } from './idefics3-processing';
import type { ImagePixels } from './image-processing';
import { readJsonFile, type ModelFiles } from './model-files';
import { ContextLengthError, type ChatMessage } from './vlm';

export interface SmolVlmAssets {
  config: Idefics3Config;
  preprocessor: Idefics3Preprocessor;
  tokenizer: PreTrainedTokenizer;
  stopTokenIds: number[];
}

/** config.json, processor_config.json (optional), preprocessor_config.json, the tokenizer and generation_config.json of a SmolVLM repo. */
export async function loadSmolVlmAssets(files: ModelFiles): Promise<SmolVlmAssets> {
  const processor = await readJsonFile(files, 'processor_config.json').catch(() => undefined);
  const config = parseIdefics3Config(await readJsonFile(files, 'config.json'), processor);
  const preprocessor = parseIdefics3Preprocessor(await readJsonFile(files, 'preprocessor_config.json'), config.vision.imageSize);
  const tokenizerConfig = await readJsonFile<Record<string, unknown>>(files, 'tokenizer_config.json');
  // The hub ships the template in chat_template.json as well as (or instead of) tokenizer_config.json.
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

export class SmolVlmChatModel implements ChatModel {
  readonly info: ChatModelInfo;

  constructor(
    readonly assets: SmolVlmAssets,
    readonly engine: VlmEngine,
    dtype: string,
  ) {
    this.info = { engine: engine.kind, modelType: 'idefics3', contextLength: engine.contextLength, device: 'native', dtype, questions: 'chat', readsPageText: false };
  }

  /** The prompt ids and the tiles of every image, in prompt order. */
  encode(messages: readonly ChatMessage[], images: readonly ImagePixels[]): { ids: Int32Array; tiles: ImageInput[] } {
    const { tokenizer, preprocessor, config } = this.assets;
    const chat = tokenizer.apply_chat_template(messages as never, { tokenize: false, add_generation_prompt: true }) as string;
    const split = images.map((img) => preprocessIdefics3(img, preprocessor));
    const prompt = expandImagePrompt(chat, split, config.imageSeqLength);
    const ids = Int32Array.from(tokenizer.encode(prompt, { add_special_tokens: false }));
    const tiles = split.flatMap((s) => s.tiles.map((pixels) => ({ pixels, key: imageKey(pixels) })));
    return { ids, tiles };
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
    const { ids, tiles } = this.encode(messages, images);
    if (ids.length + 1 > this.engine.contextLength) throw new ContextLengthError(ids.length, this.engine.contextLength);
    const budget = Math.min(options.maxNewTokens ?? 128, this.engine.contextLength - ids.length);
    const base = { promptTokens: ids.length, promptRecomputed: false };
    let first: Float32Array;
    try {
      first = await this.engine.prefill(ids, tiles, signal);
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
