/**
 * LLaVA-NeXT (llava_next) on our native engine as a ChatModel: the chat
 * template from the repo's tokenizer files, every image through the AnyRes
 * processor and its <image> repeated to the image's token count, then the
 * engine (one ImageInput per image, all its views) and sampling, streamed.
 */
import type { ChatModelInfo } from './chat-model';
import { parseLlavaConfig, type LlavaConfig } from './config';
import type { ImageInput, VlmEngine } from './engine';
import { EngineChatModel, loadEngineChatAssets, nativeChatInfo, type EngineChatAssets } from './engine-chat-model';
import type { ImagePixels } from './image-processing';
import { expandLlavaNextPrompt, parseLlavaNextPreprocessor, preprocessLlavaNext, type LlavaNextPreprocessor } from './llava-next-processing';
import { readJsonFile, type ModelFiles } from './model-files';
import { anyresInput, type AnyresImageInput } from './native/llava-next-engine';
import type { ChatMessage } from './vlm';

export type LlavaNextAssets = EngineChatAssets<LlavaConfig, LlavaNextPreprocessor>;

/** config.json, preprocessor_config.json, the tokenizer (template from chat_template.json when the tokenizer config has none) and generation_config.json. */
export async function loadLlavaNextAssets(files: ModelFiles): Promise<LlavaNextAssets> {
  const config = parseLlavaConfig(await readJsonFile(files, 'config.json'));
  return loadEngineChatAssets(files, config, (raw) => parseLlavaNextPreprocessor(raw, config));
}

export class LlavaNextChatModel extends EngineChatModel {
  readonly info: ChatModelInfo;

  constructor(
    readonly assets: LlavaNextAssets,
    engine: VlmEngine,
    dtype: string,
  ) {
    super(engine, assets.tokenizer, assets.stopTokenIds);
    this.info = nativeChatInfo(engine, 'llava_next', dtype, false);
  }

  /** The prompt ids and every image's views, in prompt order. */
  encode(messages: readonly ChatMessage[], images: readonly ImagePixels[]): { ids: Int32Array; images: AnyresImageInput[] } {
    const { preprocessor, config } = this.assets;
    const chat = this.chatText(messages);
    const side = config.vision.imageSize / config.vision.patchSize / config.imagePooling;
    const processed = images.map((img) => preprocessLlavaNext(img, preprocessor, side));
    const prompt = expandLlavaNextPrompt(chat, processed);
    const ids = this.promptIds(prompt);
    return { ids, images: processed.map((p) => anyresInput(p.views, p.size)) };
  }

  protected prompt(messages: readonly ChatMessage[], images: readonly ImagePixels[]): { ids: Int32Array; inputs: ImageInput[] } {
    const { ids, images: inputs } = this.encode(messages, images);
    return { ids, inputs };
  }
}
