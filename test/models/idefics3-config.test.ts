import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, modelTypeOf, parseIdefics3Config } from '../../src/models/config';
import { HUB_DIR } from '../helpers/family-golden';

const dir = join(HUB_DIR, 'HuggingFaceTB-tiny-smolvlm');
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
const processor = JSON.parse(readFileSync(join(dir, 'processor_config.json'), 'utf8')) as unknown;

describe('Idefics3 (SmolVLM) config', () => {
  it('reads the tiny fixture: SigLIP tower, scale factor, image token, tied Llama decoder', () => {
    expect(modelTypeOf(config)).toBe('idefics3');
    const c = parseIdefics3Config(config, processor);
    expect(c.vision).toMatchObject({ imageSize: 64, patchSize: 8, hiddenSize: 32, numLayers: 2, numHeads: 2, hiddenAct: 'gelu_pytorch_tanh', layerNormEps: 1e-6 });
    expect(c.text).toMatchObject({ hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, ropeTheta: 100000, tieWordEmbeddings: true, vocabSize: 379 });
    expect(c.scaleFactor).toBe(4);
    expect(c.imageTokenId).toBe(377);
    expect(c.imageSeqLength).toBe(4);
  });

  it('takes tie_word_embeddings from the top level when text_config leaves it out', () => {
    const text = { ...(config.text_config as object), tie_word_embeddings: undefined };
    expect(parseIdefics3Config({ ...config, text_config: text }).text.tieWordEmbeddings).toBe(true);
  });

  it('refuses a config it cannot run, naming the field', () => {
    expect(() => parseIdefics3Config({ ...config, model_type: 'llava' })).toThrow(/model_type "llava" is not idefics3/);
    expect(() => parseIdefics3Config({ ...config, vision_config: undefined })).toThrow(/no vision_config/);
    expect(() => parseIdefics3Config({ ...config, scale_factor: 3 })).toThrow(ConfigError);
    expect(() => parseIdefics3Config({ ...config, scale_factor: 3 })).toThrow(/scale_factor 3 does not divide the 8x8 patch grid/);
    expect(() => parseIdefics3Config({ ...config, vision_config: { ...(config.vision_config as object), model_type: 'clip_vision_model' } })).toThrow(
      /vision_config.model_type is "clip_vision_model"; supported: idefics3_vision/,
    );
    expect(() => parseIdefics3Config(config, { image_seq_len: 64 })).toThrow(/image_seq_len is 64 but config.json gives \(8 \/ 4\)\^2 = 4/);
    expect(() => parseIdefics3Config({ ...config, image_token_id: undefined })).toThrow(/image_token_id must be a number/);
  });
});
