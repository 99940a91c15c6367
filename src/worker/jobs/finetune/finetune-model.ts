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

/** One decoded image as chat processes it: its tiles' pixel_values in prompt order, and the grid the prompt spells (0 x 0: not split). */
export interface ProcessedImage {
  tiles: Float32Array[];
  rows: number;
  cols: number;
}

export interface FinetuneModel {
  /** The loaded model's id: the adapter's base_model_name_or_path. */
  readonly id: string;
  readonly imageTokenId: number;
  /** Image tokens each image expands to in the ids. */
  readonly imageSeqLength: number;
  /** What an imported adapter is checked against. */
  readonly peftBase: PeftBase;
  /**
   * A conversation's ids and labels (answers supervised only), image tokens
   * expanded; `images` (when tiledImages) are its images, one per `<image>`
   * marker in order, whose grids the expansion spells.
   */
  encode(conversations: readonly LlavaTurn[], images?: readonly ProcessedImage[]): EncodedConversation;
  /** One decoded image as chat processes it: its pixel_values, or its tiles (each a run of imageSeqLength image tokens). */
  pixels(image: ImagePixels): Float32Array | ProcessedImage;
  /** The ids depend on each image's tiling (Idefics3), so a record's images are processed before it is encoded. */
  readonly tiledImages?: boolean;
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
