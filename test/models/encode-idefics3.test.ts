import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { expandImagePrompt } from '../../src/models/idefics3-processing';
import { encodeIdefics3Conversation } from '../../src/models/lora/encode-idefics3';
import { IGNORE_INDEX } from '../../src/models/lora/encode-conversation';
import { HUB_DIR } from '../helpers/family-golden';

// SmolVLM training sequences from LLaVA turns, with the fixture's tokenizer and
// chat template: the pieces rendered turn by turn must tokenize to the ids of
// the whole rendered conversation, and only the answers (to their stop token) are learned.
const dir = join(HUB_DIR, 'HuggingFaceTB-tiny-smolvlm');
const tokenizer = new PreTrainedTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
const EOU = tokenizer.encode('<end_of_utterance>', { add_special_tokens: false });
const grids = [{ rows: 2, cols: 4 }];

describe('Idefics3 training sequences', () => {
  it('a two-exchange conversation: ids equal the whole text, answers learned up to <end_of_utterance>', () => {
    const turns = [
      { from: 'human', value: '<image>\nWhat is in the picture?' },
      { from: 'gpt', value: 'There is a red square.' },
      { from: 'human', value: 'How many shapes are there?' },
      { from: 'gpt', value: 'There are 3 shapes.' },
    ] as const;
    const seq = encodeIdefics3Conversation(tokenizer, turns, grids, 4, [2, ...EOU]);
    const text = tokenizer.apply_chat_template(
      [
        { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is in the picture?' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'There is a red square.' }] },
        { role: 'user', content: [{ type: 'text', text: 'How many shapes are there?' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'There are 3 shapes.' }] },
      ] as never,
      { tokenize: false },
    ) as string;
    expect(Array.from(seq.ids)).toEqual(tokenizer.encode(expandImagePrompt(text, grids, 4), { add_special_tokens: false }));
    // 2 x 4 tiles and the global view, 4 image tokens each: none learned.
    expect(Array.from(seq.ids).filter((id) => id === 377)).toHaveLength(9 * 4);
    const learned = tokenizer.decode(Array.from(seq.labels).filter((l) => l !== IGNORE_INDEX));
    expect(learned).toBe(' There is a red square.<end_of_utterance> There are 3 shapes.<end_of_utterance>');
  });

  it('an image after the text goes after it; markers and images must agree', () => {
    const seq = encodeIdefics3Conversation(tokenizer, [{ from: 'human', value: 'Describe this.\n<image>' }, { from: 'gpt', value: 'A square.' }], [{ rows: 0, cols: 0 }], 4, EOU);
    const text = tokenizer.decode(Array.from(seq.ids));
    expect(text.indexOf('Describe this.')).toBeLessThan(text.indexOf('<global-img>'));
    expect(() => encodeIdefics3Conversation(tokenizer, [{ from: 'human', value: '<image>\nHi' }, { from: 'gpt', value: 'Yes.' }], [], 4, EOU)).toThrow(/more <image> markers than the 0 image/);
    expect(() => encodeIdefics3Conversation(tokenizer, [{ from: 'human', value: 'Hi' }, { from: 'gpt', value: 'Yes.' }], grids, 4, EOU)).toThrow(/0 <image> marker\(s\) but 1 image/);
  });
});
