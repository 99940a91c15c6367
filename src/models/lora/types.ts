/**
 * LoRA on the native engine: the adapter as PEFT saves it, one training
 * sequence, and the trainable model the fine-tune job drives. The trainer
 * knows nothing of a particular model: any native model that can build a
 * LoraTrainable (LLaVA today, Idefics3 next) is trained the same way.
 */

/** Linear layers of a Llama decoder layer an adapter may wrap (PEFT's target_modules names). */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** Linear layers of a vision encoder layer (CLIP, SigLIP) an adapter may wrap. */
export const VISION_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'] as const;
export type VisionTarget = (typeof VISION_TARGETS)[number];

/** PEFT's LoraConfig fields we use (adapter_config.json). */
export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: LoraTarget[];
  /** The multimodal projector is trained too (PEFT: modules_to_save ["multi_modal_projector"]). */
  trainProjector: boolean;
  /** base_model_name_or_path: the model id the adapter was trained on. */
  baseModel: string;
  /** Vision encoder layers (numbered from 0) whose visionTargets are wrapped too; absent or empty: the tower stays frozen. */
  visionLayers?: number[];
  /** Linear layers wrapped in each of visionLayers (default: all of VISION_TARGETS). */
  visionTargets?: VisionTarget[];
  /**
   * Token ids whose embed_tokens and lm_head rows are trained (PEFT's
   * trainable_token_indices): the trained rows replace the base rows.
   */
  tokenIds?: number[];
  /** The words those ids spell (for the settings view; the ids are what count). */
  tokenWords?: string[];
  /** Learning rate of the token rows (default: the adapter's). */
  tokenLr?: number;
}

/** The vision layers and targets a config trains (none when visionLayers is empty). */
export function visionPlan(config: LoraConfig): { layers: number[]; targets: VisionTarget[] } {
  const layers = [...new Set(config.visionLayers ?? [])].sort((a, b) => a - b);
  return { layers, targets: layers.length ? [...(config.visionTargets ?? VISION_TARGETS)] : [] };
}

/** A host-side tensor with its name. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * An adapter in PEFT's key names:
 *   base_model.model.<HF module path>.lora_A.weight  [rank, in_features]
 *   base_model.model.<HF module path>.lora_B.weight  [out_features, rank]
 * e.g. base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_A.weight
 * (vision layers likewise: base_model.model.vision_tower.vision_model.encoder.layers.2.mlp.fc1.lora_A.weight);
 * trained token rows: base_model.model.<embed_tokens or lm_head path>.token_adapter.trainable_tokens_delta [tokens, width];
 * with trainProjector, the projector's full weights as PEFT saves modules_to_save:
 *   base_model.model.multi_modal_projector.linear_1.weight (and .bias, linear_2).
 * The update is W x + (alpha / rank) * B (A x).
 */
export interface LoraAdapterData {
  config: LoraConfig;
  tensors: NamedTensor[];
}

/**
 * One training sequence, in Hugging Face's convention: labels sit at the same
 * positions as ids (the loss shifts them), -100 where nothing is supervised
 * (prompt, image tokens, padding); image tokens already expanded.
 */
export interface TrainExample {
  id: string;
  ids: Int32Array;
  labels: Int32Array;
  /** Processed pixel values of each image, in prompt order. */
  pixels: Float32Array[];
}

export interface AdamwSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** AdamW state: `${name}.exp_avg` and `${name}.exp_avg_sq` per trained tensor, and the step count. */
export interface OptimizerState {
  step: number;
  tensors: NamedTensor[];
}

export interface SequenceLoss {
  /** Sum of the token losses of the supervised positions. */
  lossSum: number;
  /** Supervised positions (labels != -100 after the shift). */
  tokens: number;
}

/** A native model with an adapter attached, its gradients and AdamW state on the GPU. */
export interface LoraTrainable {
  readonly config: LoraConfig;
  /** Trained tensors, PEFT key names and shapes. */
  readonly parameters: readonly { name: string; shape: readonly number[] }[];
  /**
   * Forward and backward of one sequence: adds `scale` * d(token loss sum)/d(param)
   * into the gradient buffers. The job passes scale = 1 / (supervised tokens of
   * the whole optimizer step), so accumulating sequences one by one equals the
   * mean loss of one batch (HF's causal-LM loss).
   */
  accumulate(example: TrainExample, scale: number, options?: { dropoutSeed?: number; signal?: AbortSignal }): Promise<SequenceLoss>;
  /** Forward only, no dropout (validation). */
  evaluate(example: TrainExample): Promise<SequenceLoss>;
  /** L2 norm of every accumulated gradient, by parameter name. */
  gradNorms(): Promise<Record<string, number>>;
  /**
   * Multiply the gradients by gradScale (clipping), one AdamW update at `step`
   * (1-based; trained token rows at `tokenLr`, default lr), then zero the gradients.
   */
  optimizerStep(settings: AdamwSettings & { step: number; gradScale: number; tokenLr?: number }): void;
  zeroGrads(): void;
  exportAdapter(): Promise<LoraAdapterData>;
  importAdapter(adapter: LoraAdapterData): void;
  exportOptimizer(): Promise<OptimizerState>;
  importOptimizer(state: OptimizerState): void;
  /** Frees the adapter's, gradients' and optimizer's GPU buffers (the base model stays). */
  release(): void;
}

/** PEFT's two files. */
export interface PeftFiles {
  /** adapter_config.json text. */
  adapterConfig: string;
  /** adapter_model.safetensors bytes. */
  safetensors: Uint8Array;
}
