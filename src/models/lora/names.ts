/**
 * PEFT's tensor names for an adapter on a Llama decoder and a projector:
 *   base_model.model.<LlamaModel path>.layers.<i>.<self_attn|mlp>.<target>.lora_A.weight
 * (the LlamaModel path is language_model.model in LLaVA, model.text_model in Idefics3)
 *   base_model.model.<projector module path>.weight / .bias (modules_to_save)
 *   base_model.model.<vision encoder path>.layers.<i>.<self_attn|mlp>.<target>.lora_A.weight
 *   base_model.model.<embed_tokens | lm_head path>.token_adapter.trainable_tokens_delta
 */
import type { Idefics3Config, LlavaConfig, TextConfig } from '../config';
import type { LoraTarget } from './types';

export const PEFT_PREFIX = 'base_model.model.';

/** HF module path of a target inside decoder layer i, under the LlamaModel path. */
export function targetModulePath(i: number, target: LoraTarget): string {
  const block = target === 'gate_proj' || target === 'up_proj' || target === 'down_proj' ? 'mlp' : 'self_attn';
  return `layers.${i}.${block}.${target}`;
}

export function loraTensorName(modelPath: string, layer: number, target: LoraTarget, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${modelPath}.${targetModulePath(layer, target)}.lora_${which}.weight`;
}

export function moduleTensorName(path: string, which: 'weight' | 'bias'): string {
  return `${PEFT_PREFIX}${path}.${which}`;
}

/** HF module path of a vision target inside encoder layer i, under the encoder path. */
export function visionTargetPath(i: number, target: string): string {
  return `layers.${i}.${target.startsWith('fc') ? 'mlp' : 'self_attn'}.${target}`;
}

export function visionLoraTensorName(encoderPath: string, layer: number, target: string, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${encoderPath}.${visionTargetPath(layer, target)}.lora_${which}.weight`;
}

/** PEFT's TrainableTokensLayer tensor of an embedding or output layer: the trained rows themselves. */
export const TOKEN_ROWS_SUFFIX = '.token_adapter.trainable_tokens_delta';

export function tokenRowsName(modulePath: string): string {
  return `${PEFT_PREFIX}${modulePath}${TOKEN_ROWS_SUFFIX}`;
}

/** A model an adapter is named for: LLaVA's or Idefics3's config, told apart by architecture. */
export type AdapterModelConfig = LlavaConfig | Idefics3Config;

/**
 * Where PEFT names an adapter's tensors on one family: the HF module paths of
 * the parts an adapter may touch, as that family's checkpoint names them.
 * A part that is null cannot carry an adapter on this family here.
 */
export interface PeftLayout {
  /** The family, as messages name it. */
  readonly family: string;
  /** The LlamaModel path: language_model.model (LLaVA), model.text_model (Idefics3). */
  readonly decoder: string;
  /** modules_to_save's name for the projector and its linear layers [out, in]. */
  readonly projector: { module: string; linears: { path: string; shape: [number, number]; bias: boolean }[] } | null;
  /** The vision encoder's path and its layer widths. */
  readonly vision: { path: string; hiddenSize: number; intermediateSize: number } | null;
  /** The modules trainable_token_indices names, by PEFT's key, and their checkpoint paths. */
  readonly tokenLayers: { embed_tokens: string; lm_head: string } | null;
  readonly text: TextConfig;
}

export function peftLayout(config: AdapterModelConfig): PeftLayout {
  const d = config.text.hiddenSize;
  if (config.architecture === 'idefics3') {
    // Idefics3ForConditionalGeneration: model.{vision_model, connector, text_model}, lm_head. Only decoder LoRA is applied at inference so far.
    return { family: 'Idefics3', decoder: 'model.text_model', projector: null, vision: null, tokenLayers: null, text: config.text };
  }
  const v = config.vision;
  const linears: { path: string; shape: [number, number]; bias: boolean }[] = [
    { path: 'multi_modal_projector.linear_1', shape: [d, v.hiddenSize], bias: config.projectorBias },
    { path: 'multi_modal_projector.linear_2', shape: [d, d], bias: config.projectorBias },
  ];
  return {
    family: 'LLaVA',
    decoder: 'language_model.model',
    projector: { module: 'multi_modal_projector', linears },
    vision: { path: 'vision_tower.vision_model.encoder', hiddenSize: v.hiddenSize, intermediateSize: v.intermediateSize },
    tokenLayers: { embed_tokens: 'language_model.model.embed_tokens', lm_head: 'language_model.lm_head' },
    text: config.text,
  };
}

/** The decoder paths of every family, to name the family an adapter from elsewhere was made for. */
export const DECODER_PATHS: readonly { family: string; decoder: string }[] = [
  { family: 'LLaVA', decoder: 'language_model.model' },
  { family: 'LLaVA', decoder: 'model.language_model' },
  { family: 'Idefics3', decoder: 'model.text_model' },
];

/** The vision encoder layer's field holding each HF vision target (CLIP/SigLIP layer weights). */
export const VISION_FIELD = { q_proj: 'q', k_proj: 'k', v_proj: 'v', out_proj: 'out', fc1: 'fc1', fc2: 'fc2' } as const;
