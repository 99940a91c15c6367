/**
 * The tiny LLaVA-NeXT fixture as the chat model reads it: its golden cases
 * (PyTorch's prompt ids and greedy ids per conversation) and its repo assets
 * with the safetensors file, read the way the worker reads a repo.
 */
import { join } from 'node:path';
import { loadLlavaNextAssets, type LlavaNextAssets } from '../../src/models/llava-next';
import { SafetensorsFile } from '../../src/models/safetensors';
import type { ChatMessage } from '../../src/models/vlm';
import { bundledModelFiles } from '../models/fs-files';
import { HUB_DIR, readGolden } from './family-golden';

export const LLAVA_NEXT_REPO = 'llava-hf-tiny-llava-next';

/** One conversation of golden.json. */
export interface LlavaNextCase {
  images: { file: string }[];
  messages: ChatMessage[];
  input_ids: number[];
  max_new_tokens: number;
  greedy_ids: number[];
}

/** The wide-image case at the top level, the others beside it. */
export const readLlavaNextGolden = (): LlavaNextCase & { tall: LlavaNextCase; two_images: LlavaNextCase } => readGolden(LLAVA_NEXT_REPO);

/** The fixture's assets (config, AnyRes preprocessor, tokenizer, stop ids) and its model.safetensors. */
export async function loadLlavaNextFixture(): Promise<{ assets: LlavaNextAssets; file: SafetensorsFile }> {
  const files = bundledModelFiles(join(HUB_DIR, LLAVA_NEXT_REPO), LLAVA_NEXT_REPO);
  const assets = await loadLlavaNextAssets(files);
  const file = new SafetensorsFile(await files.bytes('model.safetensors'), `${LLAVA_NEXT_REPO}/model.safetensors`);
  return { assets, file };
}
