/**
 * The loaded model as the fine-tune job sees it, built from our pipeline on
 * the native engine (the only engine with a backward pass). Every other case
 * is refused here with an error the page can show.
 */
import { encodeConversation } from '../../../models/lora/encode-conversation';
import type { LoraAdapterData, LoraConfig, LoraTrainable } from '../../../models/lora/types';
import type { Vlm } from '../../../models/vlm';
import type { LoadedModel } from '../../api';
import { VlmError } from '../../errors';
import type { FinetuneModel } from './finetune-model';

/** The three things LoRA needs of the native engine; kept in one place so the rest of the job does not know its internals. */
function loraOps(vlm: Vlm): { trainable(config: LoraConfig): Promise<LoraTrainable>; attach(adapter: LoraAdapterData | null): void; merge(adapter: LoraAdapterData): void } {
  const missing = () => new VlmError('unsupported-model', `The native engine running ${vlm.config.text.numLayers}-layer models here cannot add LoRA yet.`);
  return {
    trainable: async () => {
      throw missing();
    },
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
  if (loaded.engine !== 'native' || !vlm || vlm.engine.kind !== 'native') {
    throw new VlmError('bad-input', `Fine-tuning needs the native engine, but ${loaded.id} is loaded on the ${loaded.engine} engine: load it on the native engine to train, apply or import an adapter.`);
  }
  const { config, tokenizer } = vlm.assets;
  const ops = loraOps(vlm);
  return {
    id: loaded.id,
    imageTokenId: config.imageTokenIndex,
    imageSeqLength: config.imageSeqLength,
    peftBase: { modelId: loaded.id, config },
    encode: (conversations) => encodeConversation(tokenizer, conversations, config.imageSeqLength, config.imageTokenIndex),
    pixels: (image) => vlm.preprocess(image).pixels,
    createTrainable: (lora) => ops.trainable(lora),
    setAdapter: (adapter) => ops.attach(adapter),
    mergeAdapter: (adapter) => ops.merge(adapter),
  };
}
