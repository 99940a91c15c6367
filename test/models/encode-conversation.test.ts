import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TASK_OPTIONS, taskSamples } from '../../src/data';
import type { LlavaRecord } from '../../src/data/llava';
import { encodeConversation, IGNORE_INDEX } from '../../src/models/lora/encode-conversation';
import { loadModelAssets, type ModelAssets } from '../../src/models/vlm';
import { bundledModelFiles } from './fs-files';
import { readJson } from './golden';

interface LoraBatch {
  input_ids: number[][];
  attention_mask: number[][];
  labels: number[][];
}
interface Fixture {
  image_seq_length: number;
  image_token_id: number;
  cases: { record: LlavaRecord; ids: number[]; labels: number[] }[];
}

const golden = readJson<{ lora: { batch: LoraBatch } }>('golden.json');
const fixture = JSON.parse(readFileSync(new URL('../fixtures/encode-conversation.json', import.meta.url), 'utf8')) as Fixture;
let assets: ModelAssets;

beforeAll(async () => {
  assets = await loadModelAssets(bundledModelFiles());
});

function encode(record: Pick<LlavaRecord, 'conversations'>): { ids: number[]; labels: number[] } {
  const { ids, labels } = encodeConversation(assets.tokenizer, record.conversations, assets.config.imageSeqLength, assets.config.imageTokenIndex);
  return { ids: Array.from(ids), labels: Array.from(labels) };
}

describe('encodeConversation', () => {
  it("gives golden.json's lora batch: both sequences' ids and labels, unpadded", () => {
    // The batch's two conversations, as tools/train/golden.py builds them: the golden image's description, then its count.
    const options = { ...DEFAULT_TASK_OPTIONS, minObjects: 1, maxObjects: 1 };
    const describeSample = taskSamples('describe', 1, 2024, options).next().value;
    if (!describeSample) throw new Error('the generator gave no describe sample');
    const conversations = [describeSample.conversations, [{ from: 'human', value: '<image>\nHow many objects are there?' }, { from: 'gpt', value: '1' }]] as const;
    const batch = golden.lora.batch;
    conversations.forEach((c, b) => {
      const length = batch.attention_mask[b]?.reduce((n, v) => n + v, 0) ?? 0;
      const got = encode({ conversations: c as LlavaRecord['conversations'] });
      expect(got.ids, `sequence ${b} ids`).toEqual(batch.input_ids[b]?.slice(0, length));
      expect(got.labels, `sequence ${b} labels`).toEqual(batch.labels[b]?.slice(0, length));
    });
  });

  it.each(fixture.cases.map((c) => [c.record.id, c] as const))('matches tools/train encode_conversation on %s', (_, c) => {
    expect(fixture.image_seq_length).toBe(assets.config.imageSeqLength);
    expect(fixture.image_token_id).toBe(assets.config.imageTokenIndex);
    const got = encode(c.record);
    expect(got.ids).toEqual(c.ids);
    expect(got.labels).toEqual(c.labels);
  });

  it('supervises only the answers and their <|im_end|>, never image tokens or the prompt', () => {
    const c = fixture.cases.find((x) => x.record.id === 'two-images');
    if (!c) throw new Error('fixture case missing');
    const got = encode(c.record);
    const image = assets.config.imageTokenIndex;
    expect(got.ids.filter((i) => i === image)).toHaveLength(2 * assets.config.imageSeqLength);
    const supervised = got.labels.filter((l) => l !== IGNORE_INDEX);
    const answer = assets.tokenizer.encode('The second image has an extra blue square.<|im_end|>', { add_special_tokens: false });
    expect(supervised).toEqual(answer);
  });
});
