/**
 * The loaded model as the fine-tune job sees it, built from our model code on
 * the native engine (the only engine with a backward pass): LLaVA through our
 * pipeline, SmolVLM (Idefics3) through its chat model's assets and engine.
 * Every other case is refused here with an error the page can show.
 */
import type { ChatModel } from '../../../models/chat-model';
import { preprocessIdefics3 } from '../../../models/idefics3-processing';
import { encodeConversation } from '../../../models/lora/encode-conversation';
import { encodeIdefics3Conversation } from '../../../models/lora/encode-idefics3';
import { idefics3Host } from '../../../models/lora/host';
import { createLoraTrainable, createTrainableFor } from '../../../models/lora/trainable';
import { NativeIdefics3Engine } from '../../../models/native/idefics3-engine';
import { NativeEngine } from '../../../models/native/native-engine';
import { SmolVlmChatModel } from '../../../models/smolvlm';
import type { Vlm } from '../../../models/vlm';
import type { LoadedModel } from '../../api';
import { VlmError } from '../../errors';
import type { FinetuneModel } from './finetune-model';

export function nativeFinetuneModel(loaded: LoadedModel | null, vlm: Vlm | null, chat: ChatModel | null = null): FinetuneModel {
  if (!loaded) throw new VlmError('no-model', 'No model is loaded: load one on the native engine to fine-tune it.');
  if (loaded.engine === 'native' && chat instanceof SmolVlmChatModel && chat.engine instanceof NativeIdefics3Engine) return idefics3Model(loaded.id, chat, chat.engine);
  if (loaded.engine === 'native' && !(vlm?.engine instanceof NativeEngine)) {
    throw new VlmError('unsupported-model', `LoRA on the native engine covers LLaVA and SmolVLM (Idefics3) models so far; ${loaded.id} runs natively but cannot be fine-tuned yet.`);
  }
  if (loaded.engine !== 'native' || !vlm || !(vlm.engine instanceof NativeEngine)) {
    throw new VlmError('bad-input', `Fine-tuning needs the native engine, but ${loaded.id} is loaded on the ${loaded.engine} engine: load it on the native engine to train, apply or import an adapter.`);
  }
  return llavaModel(loaded.id, vlm, vlm.engine);
}

function llavaModel(id: string, vlm: Vlm, engine: NativeEngine): FinetuneModel {
  const { config, tokenizer } = vlm.assets;
  return {
    id,
    imageTokenId: config.imageTokenIndex,
    imageSeqLength: config.imageSeqLength,
    peftBase: { modelId: id, config },
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

/**
 * SmolVLM: its chat template and tiling make the sequences, decoder LoRA
 * trains on idefics3Host. The adapter at inference applies decoder LoRA
 * only, so a trained connector, vision layers (visionLayers 0) and new
 * words' rows (no wordTokens) are refused rather than trained and lost.
 */
function idefics3Model(id: string, chat: SmolVlmChatModel, engine: NativeIdefics3Engine): FinetuneModel {
  const { config, tokenizer, preprocessor, stopTokenIds } = chat.assets;
  return {
    id,
    imageTokenId: config.imageTokenId,
    imageSeqLength: config.imageSeqLength,
    peftBase: { modelId: id, config },
    tiledImages: true,
    encode: (conversations, images = []) => encodeIdefics3Conversation(tokenizer, conversations, images, config.imageSeqLength, stopTokenIds),
    pixels: (image) => preprocessIdefics3(image, preprocessor),
    createTrainable: (lora, seed) => {
      if (lora.trainProjector) throw new VlmError('bad-input', `${id}'s connector cannot be trained here yet (its adapter applies to the decoder only): turn "train the projector" off.`);
      return createTrainableFor(idefics3Host(engine.model), lora, undefined, { seed });
    },
    setAdapter: (adapter) => engine.setAdapter(adapter),
    mergeAdapter: (adapter) => engine.mergeAdapter(adapter),
    visionLayers: 0,
  };
}
