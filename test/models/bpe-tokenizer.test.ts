import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

// The byte-level BPE tokenizer (tools/train/bpe) through @huggingface/transformers
// must give the ids its Python twin gave (test/fixtures/bpe-sample.json, written by
// tools/train/bpe_build.py) and, having no unknown token, return any text unchanged.
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = join(process.cwd(), 'tools', 'train');

interface Case {
  readonly kind: string;
  readonly text: string;
  readonly ids: readonly number[];
}
interface Chat {
  readonly messages: readonly unknown[];
  readonly add_generation_prompt: boolean;
  readonly text: string;
  readonly ids: readonly number[];
}
interface Sample {
  readonly vocab: number;
  readonly cases: readonly Case[];
  readonly chats: readonly Chat[];
}

const sample = JSON.parse(readFileSync(join(process.cwd(), 'test', 'fixtures', 'bpe-sample.json'), 'utf8')) as Sample;
const load = () => AutoTokenizer.from_pretrained('bpe');

/** Deterministic strings of mixed scripts, symbols, emoji and whitespace (an LCG, so every run sees the same). */
function fuzzTexts(n: number): string[] {
  const ranges: readonly [number, number][] = [
    [0x20, 0x7e], [0x09, 0x0a], [0xc0, 0x17f], [0x391, 0x3c9], [0x410, 0x44f], [0x3041, 0x3096], [0x4e00, 0x4fff],
    [0x1f600, 0x1f64f], [0x200d, 0x200d], [0x1f3fb, 0x1f3ff],
  ];
  let s = 12345;
  const next = (m: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % m;
  };
  return Array.from({ length: n }, () => {
    let t = '';
    for (let k = 0, len = 1 + next(24); k < len; k++) {
      const [lo, hi] = ranges[next(ranges.length)] as [number, number];
      t += String.fromCodePoint(lo + next(hi - lo + 1));
    }
    return t;
  });
}

describe('byte-level BPE tokenizer', () => {
  it('covers synthetic prompts, unicode and held-out words in its sample', () => {
    const kinds = new Set(sample.cases.map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['held-out', 'synthetic', 'unicode']);
    expect(sample.vocab).toBeGreaterThan(256);
  });

  it('encodes every sample text to the ids the Python twin gave, and decodes them back', async () => {
    const tok = await load();
    for (const c of sample.cases) {
      expect(tok.encode(c.text), c.text).toEqual(c.ids);
      expect(tok.decode([...c.ids]), c.text).toBe(c.text);
    }
  });

  it('keeps specials and markup at the word-level tokenizer ids', async () => {
    const tok = await load();
    const fixed = ['<pad>', '<|im_start|>', '<|im_end|>', '<image>', '<unk>', '<ref>', '</ref>', '<box>', '</box>'];
    expect(tok.convert_tokens_to_ids(fixed)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('applies the chat template to the same text and ids', async () => {
    const tok = await load();
    for (const c of sample.chats) {
      const opts = { add_generation_prompt: c.add_generation_prompt };
      expect(tok.apply_chat_template(c.messages as never, { ...opts, tokenize: false })).toBe(c.text);
      expect(tok.apply_chat_template(c.messages as never, { ...opts, tokenize: true, return_tensor: false, return_dict: false }))
        .toEqual(c.ids);
    }
  });

  it('round-trips any text with no unknown token', async () => {
    const tok = await load();
    const unk = tok.convert_tokens_to_ids(['<unk>'])[0];
    for (const text of fuzzTexts(300)) {
      const ids = tok.encode(text);
      expect(ids, text).not.toContain(unk);
      expect(tok.decode(ids), text).toBe(text);
    }
  });
});
