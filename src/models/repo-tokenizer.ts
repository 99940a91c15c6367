/**
 * The tokenizer and stop ids of a hub repo, read the same way for every
 * family on our engines: the chat template from tokenizer_config.json, or
 * from chat_template.json where newer repos keep it alone; the end ids from
 * config.json and the optional generation_config.json.
 */
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { readJsonFile, type ModelFiles } from './model-files';

/** tokenizer.json with tokenizer_config.json; the template from chat_template.json when the tokenizer config has none (newer hub repos). */
export async function loadChatTokenizer(files: ModelFiles): Promise<PreTrainedTokenizer> {
  const tokenizerConfig = await readJsonFile<Record<string, unknown>>(files, 'tokenizer_config.json');
  if (tokenizerConfig.chat_template === undefined) {
    const template = await readJsonFile<{ chat_template?: string }>(files, 'chat_template.json').catch(() => ({}) as { chat_template?: string });
    if (template.chat_template) tokenizerConfig.chat_template = template.chat_template;
  }
  return new PreTrainedTokenizer(await readJsonFile(files, 'tokenizer.json'), tokenizerConfig);
}

/** The config's end ids and generation_config.json's eos_token_id (one id or a list; the file is optional). */
export async function loadStopTokenIds(files: ModelFiles, configEos: readonly number[]): Promise<number[]> {
  const generation = await readJsonFile<{ eos_token_id?: number | number[] }>(files, 'generation_config.json').catch(() => ({}) as { eos_token_id?: number | number[] });
  const eos = generation.eos_token_id;
  return [...new Set([...configEos, ...(Array.isArray(eos) ? eos : typeof eos === 'number' ? [eos] : [])])];
}
