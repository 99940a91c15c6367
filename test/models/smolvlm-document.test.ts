/**
 * Document Q&A on native SmolVLM: the model says it reads page text, so
 * Documents' question goes with the page's lines, and the prompt the chat
 * model builds from it is the SmolVLM chat template over the page text and
 * question, with the page image expanded into its tile blocks. The engine is
 * a recorder (no GPU): what is checked is the prompt it is handed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCUMENT_TEXT_HEADER } from '../../src/data/tasks/document-context';
import type { ImageInput, VlmEngine } from '../../src/models/engine';
import type { ImagePixels } from '../../src/models/image-processing';
import { loadSmolVlmAssets, SmolVlmChatModel } from '../../src/models/smolvlm';
import type { ChatReply } from '../../src/worker/api';
import { askDocument } from '../../src/worker/jobs/document-question';
import { HUB_DIR, readPixels } from '../helpers/family-golden';
import { readSmolGolden, SMOL_DIR } from '../helpers/smolvlm-golden';

const dir = join(HUB_DIR, SMOL_DIR);
const files = { id: SMOL_DIR, bytes: async (name: string) => new Uint8Array(readFileSync(join(dir, name))).buffer };

/** An engine that records its prefill and answers with the end token at once. */
function recorder(vocab: number, stop: number): VlmEngine & { seen: { ids: number[]; inputs: number } | null } {
  const logits = new Float32Array(vocab);
  logits[stop] = 1;
  const engine = {
    kind: 'native' as const,
    contextLength: 4096,
    reusedPositions: 0,
    seen: null as { ids: number[]; inputs: number } | null,
    prefill: async (ids: Int32Array, inputs: readonly ImageInput[]) => {
      engine.seen = { ids: Array.from(ids), inputs: inputs.length };
      return logits;
    },
    decode: async () => logits,
    stats: () => ({ encodeMs: 0, peakGpuBytes: 0 }),
    dispose: async () => undefined,
  };
  return engine;
}

describe('document Q&A on native SmolVLM', () => {
  it("reads page text: the question goes with the page's lines, before the page image's tile blocks", async () => {
    const assets = await loadSmolVlmAssets(files);
    const engine = recorder(assets.config.text.vocabSize, assets.stopTokenIds[0] as number);
    const model = new SmolVlmChatModel(assets, engine, 'f32');
    expect(model.info.readsPageText).toBe(true);

    const page = readPixels(SMOL_DIR, readSmolGolden().images[0]?.file as string);
    const lines = ['Invoice   42 ', 'Total: 17 EUR', '', 'Due 2026-12-31'];
    const answer = await askDocument(
      async (req) => {
        const r = await model.chat(req.messages, req.images as ImagePixels[], req.options ?? {});
        return { text: r.text, finishReason: r.finishReason } as ChatReply;
      },
      model.info,
      { question: 'What is the total?', lines, image: page },
    );
    expect(answer.context).toEqual({ given: 4, total: 4, limit: expect.any(Number) as number });

    const seen = engine.seen as { ids: number[]; inputs: number };
    const prompt = assets.tokenizer.decode(seen.ids, { skip_special_tokens: false });
    // The page text as documentContextPrompt writes it: the header, the lines squeezed and non-empty, a blank line, the question.
    const text = `${DOCUMENT_TEXT_HEADER}\nInvoice 42\nTotal: 17 EUR\nDue 2026-12-31\n\nWhat is the total?`;
    expect(prompt.startsWith('<|im_start|>User:')).toBe(true);
    expect(prompt).toContain(`${text}<fake_token_around_image><row_1_col_1><image>`);
    expect(prompt.indexOf(text)).toBeLessThan(prompt.indexOf('<global-img>'));
    expect(prompt.endsWith('<end_of_utterance>\nAssistant:')).toBe(true);
    // One input per tile (the crops and the global view), each taking image_seq_len <image> tokens.
    const imageId = assets.config.imageTokenId;
    expect(seen.ids.filter((id) => id === imageId).length).toBe(seen.inputs * assets.config.imageSeqLength);
    expect(seen.inputs).toBeGreaterThan(1);
  });
});
