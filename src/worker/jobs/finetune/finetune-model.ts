/**
 * What the fine-tune job needs of the loaded model. Any native model that can
 * encode a conversation, process an image and build a LoraTrainable is
 * trained the same way; nothing here is particular to one model.
 */
import type { LlavaTurn } from '../../../data/llava';
import type { ImagePixels } from '../../../models/image-processing';
import type { EncodedConversation } from '../../../models/lora/encode-conversation';
import type { PeftBase } from '../../../models/lora/peft';
import type { LoraAdapterData, LoraConfig, LoraTrainable } from '../../../models/lora/types';

export interface FinetuneModel {
  /** The loaded model's id: the adapter's base_model_name_or_path. */
  readonly id: string;
  readonly imageTokenId: number;
  /** Image tokens each image expands to in the ids. */
  readonly imageSeqLength: number;
  /** What an imported adapter is checked against. */
  readonly peftBase: PeftBase;
  /** A conversation's ids and labels (answers supervised only), image tokens expanded. */
  encode(conversations: readonly LlavaTurn[]): EncodedConversation;
  /** pixel_values of one decoded image, as chat processes it. */
  pixels(image: ImagePixels): Float32Array;
  /** The model with a freshly initialised adapter (A drawn from `seed`, B zero, as PEFT does), its gradients and AdamW state. */
  createTrainable(config: LoraConfig, seed: number): Promise<LoraTrainable>;
  /** Adds the adapter to the model's forward pass (null removes it); the next answer reads the prompt again. */
  setAdapter(adapter: LoraAdapterData | null): void;
  /** Adds the adapter's update into the base weights for good. */
  mergeAdapter(adapter: LoraAdapterData): Promise<void>;
  /** Vision encoder layers the image features pass through that LoRA can wrap (0 or absent: none). */
  readonly visionLayers?: number;
  /** The one token id of each word with its leading space; throws naming a word that is not one token. */
  wordTokens?(words: readonly string[]): number[];
}
