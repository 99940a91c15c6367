/**
 * A repo whose chat template lives only in chat_template.json (newer hub
 * repos) renders chats as one with the template in tokenizer_config.json:
 * the bundled model's files rearranged that way, read by the LLaVA pipeline's
 * asset loader.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/models/model-files';
import { loadModelAssets } from '../../src/models/vlm';
import { MODEL_DIR } from './golden';

const disk = (name: string): ArrayBuffer => new Uint8Array(readFileSync(join(MODEL_DIR, name))).buffer;

/** The bundled model's files with `overrides` (null: the repo lacks the file). */
function filesWith(overrides: Record<string, unknown | null>) {
  return {
    id: 'org/newer-llava',
    bytes: async (name: string): Promise<ArrayBuffer> => {
      if (name in overrides) {
        const v = overrides[name];
        if (v === null) throw new ModelFileError(`org/newer-llava/${name}`, 'missing', 'was not found (HTTP 404)');
        return new TextEncoder().encode(JSON.stringify(v)).buffer;
      }
      return disk(name);
    },
  };
}

describe('chat template from chat_template.json', () => {
  it('renders the same prompt as the template in tokenizer_config.json; with neither, no template is invented', async () => {
    const tokenizerConfig = JSON.parse(new TextDecoder().decode(disk('tokenizer_config.json'))) as Record<string, unknown>;
    const template = tokenizerConfig.chat_template;
    expect(typeof template).toBe('string');
    const bare = { ...tokenizerConfig };
    delete bare.chat_template;
    const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What colour is the circle?' }] }];
    const render = async (overrides: Record<string, unknown | null>) =>
      (await loadModelAssets(filesWith(overrides))).tokenizer.apply_chat_template(messages as never, { tokenize: false, add_generation_prompt: true }) as string;

    const original = await render({ 'chat_template.json': null });
    expect(await render({ 'tokenizer_config.json': bare, 'chat_template.json': { chat_template: template } })).toBe(original);
    await expect(render({ 'tokenizer_config.json': bare, 'chat_template.json': null })).rejects.toThrow(/chat.?template/i);
  });
});
