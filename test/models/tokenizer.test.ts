import { describe, expect, it } from 'vitest';
import { AutoTokenizer, env } from '@huggingface/transformers';
import type { Golden } from './golden';
import { MODELS_DIR, MODEL_NAME, readJson } from './golden';

// The bundled tokenizer through @huggingface/transformers, offline from public/models,
// must give the ids the training code's own tokenizer gave (golden.json).
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR;

describe('bundled tokenizer', () => {
  const golden = readJson<Golden>('golden.json');

  it('encodes texts exactly as the trainer did, and decodes them back', async () => {
    const tok = await AutoTokenizer.from_pretrained(MODEL_NAME);
    for (const { text, ids } of golden.tokenizer) {
      expect(tok.encode(text), text).toEqual(ids);
      if (!ids.includes(tok.unk_token_id ?? -1)) expect(tok.decode(ids), text).toBe(text);
    }
  });

  it('applies the chat template to the same text and ids', async () => {
    const tok = await AutoTokenizer.from_pretrained(MODEL_NAME);
    for (const c of golden.chat) {
      const text = tok.apply_chat_template(c.messages as never, { tokenize: false, add_generation_prompt: c.add_generation_prompt });
      expect(text).toBe(c.text);
      const ids = tok.apply_chat_template(c.messages as never, {
        tokenize: true,
        add_generation_prompt: c.add_generation_prompt,
        return_tensor: false,
        return_dict: false,
      });
      expect(ids).toEqual(c.ids);
    }
    expect(tok.encode(golden.inputs.prompt)).toEqual(golden.inputs.input_ids);
  });
});
