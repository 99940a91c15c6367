/**
 * The loaded model as the fine-tune job sees it, built from our pipeline on
 * the native engine (the only engine with a backward pass). Every other case
 * is refused here with an error the page can show.
 */
import { encodeConversation } from '../../../models/lora/encode-conversation';
import { createLoraTrainable } from '../../../models/lora/trainable';
import { NativeEngine } from '../../../models/native/native-engine';
import type { Vlm } from '../../../models/vlm';
import type { LoadedModel } from '../../api';
import { VlmError } from '../../errors';
import type { FinetuneModel } from './finetune-model';

export function nativeFinetuneModel(loaded: LoadedModel | null, vlm: Vlm | null): FinetuneModel {
  if (!loaded) throw new VlmError('no-model', 'No model is loaded: load one on the native engine to fine-tune it.');
  if (loaded.engine === 'native' && vlm && !(vlm.engine instanceof NativeEngine)) {
    throw new VlmError('unsupported-model', `LoRA on the native engine covers LLaVA models so far; ${loaded.id} runs natively but cannot be fine-tuned yet.`);
  }
  if (loaded.engine !== 'native' || !vlm || !(vlm.engine instanceof NativeEngine)) {
    throw new VlmError('bad-input', `Fine-tuning needs the native engine, but ${loaded.id} is loaded on the ${loaded.engine} engine: load it on the native engine to train, apply or import an adapter.`);
  }
  const { config, tokenizer } = vlm.assets;
  const engine = vlm.engine;
  return {
    id: loaded.id,
    imageTokenId: config.imageTokenIndex,
    imageSeqLength: config.imageSeqLength,
    peftBase: { modelId: loaded.id, config },
    encode: (conversations) => encodeConversation(tokenizer, conversations, config.imageSeqLength, config.imageTokenIndex),
    pixels: (image) => vlm.preprocess(image).pixels,
    createTrainable: (lora, seed) => createLoraTrainable(engine.llava, lora, undefined, { seed }),
    setAdapter: (adapter) => engine.setAdapter(adapter),
    mergeAdapter: (adapter) => engine.mergeAdapter(adapter),
    visionLayers: config.imagePooling > 1 ? 0 : engine.llava.vision.encoder.layers.length,
    wordTokens: (words) =>
      words.map((w) => {
        const ids = tokenizer.encode(` ${w}`, { add_special_tokens: false });
        if (ids.length !== 1) throw new VlmError('bad-input', `"${w}" is ${ids.length} tokens for this model's tokenizer, not one: only single-token words can be learned as new rows.`);
        return ids[0] as number;
      }),
  };
}
