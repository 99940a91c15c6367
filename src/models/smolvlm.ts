/**
 * SmolVLM (Idefics3) on our native engine as a ChatModel: the chat template
 * from the repo's tokenizer files, every image split into tiles by the
 * Idefics3 image processor and its <image> expanded into tile blocks, then
 * the engine (one ImageInput per tile) and sampling, streamed as text.
 */
import type { ChatModelInfo } from './chat-model';
import { parseIdefics3Config, type Idefics3Config } from './config';
import { imageKey, type ImageInput, type VlmEngine } from './engine';
import { EngineChatModel, loadEngineChatAssets, nativeChatInfo, type EngineChatAssets } from './engine-chat-model';
import { expandImagePrompt, parseIdefics3Preprocessor, preprocessIdefics3, type Idefics3Preprocessor } from './idefics3-processing';
import type { ImagePixels } from './image-processing';
import { readJsonFile, type ModelFiles } from './model-files';
import type { ChatMessage } from './vlm';

export type SmolVlmAssets = EngineChatAssets<Idefics3Config, Idefics3Preprocessor>;

/** config.json, processor_config.json (optional), preprocessor_config.json, the tokenizer and generation_config.json of a SmolVLM repo. */
export async function loadSmolVlmAssets(files: ModelFiles): Promise<SmolVlmAssets> {
  const processor = await readJsonFile(files, 'processor_config.json').catch(() => undefined);
  const config = parseIdefics3Config(await readJsonFile(files, 'config.json'), processor);
  return loadEngineChatAssets(files, config, (raw) => parseIdefics3Preprocessor(raw, config.vision.imageSize));
}

export class SmolVlmChatModel extends EngineChatModel {
  readonly info: ChatModelInfo;

  constructor(
    readonly assets: SmolVlmAssets,
    engine: VlmEngine,
    dtype: string,
  ) {
    super(engine, assets.tokenizer, assets.stopTokenIds);
    // A chat model reads a page's text given in the prompt, as the transformers engine's SmolVLM does (Documents puts it there).
    this.info = nativeChatInfo(engine, 'idefics3', dtype, true);
  }

  /** The prompt ids and the tiles of every image, in prompt order. */
  encode(messages: readonly ChatMessage[], images: readonly ImagePixels[]): { ids: Int32Array; tiles: ImageInput[] } {
    const { preprocessor, config } = this.assets;
    const chat = this.chatText(messages);
    const split = images.map((img) => preprocessIdefics3(img, preprocessor));
    const prompt = expandImagePrompt(chat, split, config.imageSeqLength);
    const ids = this.promptIds(prompt);
    const tiles = split.flatMap((s) => s.tiles.map((pixels) => ({ pixels, key: imageKey(pixels) })));
    return { ids, tiles };
  }

  protected prompt(messages: readonly ChatMessage[], images: readonly ImagePixels[]): { ids: Int32Array; inputs: ImageInput[] } {
    const { ids, tiles } = this.encode(messages, images);
    return { ids, inputs: tiles };
  }
}
