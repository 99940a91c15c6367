/**
 * The loaded model as the fine-tune job sees it, built from our pipeline on
 * the native engine (the only engine with a backward pass). Every other case
 * is refused here with an error the page can show.
 */
import { encodeConversation } from '../../../models/lora/encode-conversation';
import { createLoraTrainable } from '../../../models/lora/trainable';
import { NativeEngine } from '../../../models/native/native-engine';
import type { LoraAdapterData, LoraConfig, LoraTrainable } from '../../../models/lora/types';
import type { Vlm } from '../../../models/vlm';
import type { LoadedModel } from '../../api';
import { VlmError } from '../../errors';
import type { FinetuneModel } from './finetune-model';

/** What LoRA needs of the native engine, in one place so the rest of the job does not know its internals. */
function loraOps(engine: NativeEngine): { trainable(config: LoraConfig, seed: number): Promise<LoraTrainable>; attach(adapter: LoraAdapterData | null): void; merge(adapter: LoraAdapterData): void } {
  const missing = () => new VlmError('unsupported-model', 'This build of the native engine cannot add an adapter to answers yet.');
  return {
    trainable: (config, seed) => createLoraTrainable(engine.llava, config, undefined, { seed }),
    attach: () => {
      throw missing();
    },
    merge: () => {
      throw missing();
    },
  };
}

export function nativeFinetuneModel(loaded: LoadedModel | null, vlm: Vlm | null): FinetuneModel {
  if (!loaded) throw new VlmError('no-model', 'No model is loaded: load one on the native engine to fine-tune it.');
  if (loaded.engine !== 'native' || !vlm || !(vlm.engine instanceof NativeEngine)) {
    throw new VlmError('bad-input', `Fine-tuning needs the native engine, but ${loaded.id} is loaded on the ${loaded.engine} engine: load it on the native engine to train, apply or import an adapter.`);
  }
  const { config, tokenizer } = vlm.assets;
  const ops = loraOps(vlm.engine);
  return {
    id: loaded.id,
    imageTokenId: config.imageTokenIndex,
    imageSeqLength: config.imageSeqLength,
    peftBase: { modelId: loaded.id, config },
    encode: (conversations) => encodeConversation(tokenizer, conversations, config.imageSeqLength, config.imageTokenIndex),
    pixels: (image) => vlm.preprocess(image).pixels,
    createTrainable: (lora, seed) => ops.trainable(lora, seed),
    setAdapter: (adapter) => ops.attach(adapter),
    mergeAdapter: (adapter) => ops.merge(adapter),
  };
}
