/**
 * Frozen, typed model configs parsed from a Hugging Face config.json. Sizes
 * always come from here, never from constants in the model code.
 */

export const SUPPORTED_ARCHITECTURES = ['llava', 'llava_next'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export interface VisionConfig {
  imageSize: number;
  patchSize: number;
  numChannels: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  hiddenAct: 'gelu' | 'gelu_pytorch_tanh' | 'quick_gelu';
  layerNormEps: number;
}

export interface TextConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  attentionBias: boolean;
  mlpBias: boolean;
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
}

export interface LlavaConfig {
  architecture: Architecture;
  vision: VisionConfig;
  text: TextConfig;
  imageTokenIndex: number;
  projectorHiddenAct: 'gelu' | 'gelu_pytorch_tanh';
  projectorBias: boolean;
  /** Index into [embeddings, layer 1 .. layer L] outputs; negative counts from the end. */
  visionFeatureLayer: number;
  /** 'default' drops the class token, 'full' keeps it. */
  visionFeatureSelect: 'default' | 'full';
  /** k x k average pooling of patch features before the projector (1 = none). */
  imagePooling: number;
  /** Image tokens per image (one view). */
  imageSeqLength: number;
  /** LLaVA-NeXT AnyRes grid pinpoints as [height, width]; empty for plain LLaVA. */
  gridPinpoints: [number, number][];
}

/** A config.json that cannot be used, naming the file and the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Json = Record<string, unknown>;

function num(obj: Json, key: string, where: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${where}.${key} must be a number, got ${JSON.stringify(obj[key])}`);
  return v;
}

function bool(obj: Json, key: string, fallback: boolean): boolean {
  const v = obj[key];
  return typeof v === 'boolean' ? v : fallback;
}

function oneOf<T extends string>(obj: Json, key: string, allowed: readonly T[], fallback: T, where: string): T {
  const v = obj[key] ?? fallback;
  if (!allowed.includes(v as T)) throw new ConfigError(`${where}.${key} is ${JSON.stringify(v)}; supported: ${allowed.join(', ')}`);
  return v as T;
}

function parseVision(v: Json, modelTypes: readonly string[] = ['clip_vision_model']): VisionConfig {
  const w = 'config.json vision_config';
  if (v.model_type !== undefined && !modelTypes.includes(v.model_type as string)) {
    throw new ConfigError(`${w}.model_type is ${JSON.stringify(v.model_type)}; supported: ${modelTypes.join(', ')}`);
  }
  return Object.freeze({
    imageSize: num(v, 'image_size', w),
    patchSize: num(v, 'patch_size', w),
    numChannels: num(v, 'num_channels', w, 3),
    hiddenSize: num(v, 'hidden_size', w),
    intermediateSize: num(v, 'intermediate_size', w),
    numLayers: num(v, 'num_hidden_layers', w),
    numHeads: num(v, 'num_attention_heads', w),
    hiddenAct: oneOf(v, 'hidden_act', ['gelu', 'gelu_pytorch_tanh', 'quick_gelu'] as const, 'quick_gelu', w),
    layerNormEps: num(v, 'layer_norm_eps', w, 1e-5),
  });
}

function parseText(t: Json, tieFallback = false): TextConfig {
  const w = 'config.json text_config';
  if (t.model_type !== undefined && t.model_type !== 'llama') throw new ConfigError(`${w}.model_type is ${JSON.stringify(t.model_type)}; supported: llama`);
  const heads = num(t, 'num_attention_heads', w);
  const hidden = num(t, 'hidden_size', w);
  const eos = t.eos_token_id;
  const eosTokenIds = Array.isArray(eos) ? eos.filter((e): e is number => typeof e === 'number') : typeof eos === 'number' ? [eos] : [];
  return Object.freeze({
    vocabSize: num(t, 'vocab_size', w),
    hiddenSize: hidden,
    intermediateSize: num(t, 'intermediate_size', w),
    numLayers: num(t, 'num_hidden_layers', w),
    numHeads: heads,
    numKvHeads: num(t, 'num_key_value_heads', w, heads),
    headDim: num(t, 'head_dim', w, hidden / heads),
    maxPositions: num(t, 'max_position_embeddings', w, 2048),
    rmsNormEps: num(t, 'rms_norm_eps', w, 1e-6),
    ropeTheta: num(t, 'rope_theta', w, 10000),
    attentionBias: bool(t, 'attention_bias', false),
    mlpBias: bool(t, 'mlp_bias', false),
    tieWordEmbeddings: bool(t, 'tie_word_embeddings', tieFallback),
    bosTokenId: typeof t.bos_token_id === 'number' ? t.bos_token_id : null,
    eosTokenIds: Object.freeze(eosTokenIds) as number[],
    padTokenId: typeof t.pad_token_id === 'number' ? t.pad_token_id : null,
  });
}

export function parseLlavaConfig(raw: unknown): LlavaConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('config.json is not a JSON object');
  const c = raw as Json;
  const arch = c.model_type;
  if (!SUPPORTED_ARCHITECTURES.includes(arch as Architecture)) {
    throw new ConfigError(`config.json model_type ${JSON.stringify(arch)} is not supported by the native engine; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`);
  }
  if (typeof c.vision_config !== 'object' || c.vision_config === null) throw new ConfigError('config.json has no vision_config');
  if (typeof c.text_config !== 'object' || c.text_config === null) throw new ConfigError('config.json has no text_config');
  const vision = parseVision(c.vision_config as Json);
  const text = parseText(c.text_config as Json);
  if (text.numHeads % text.numKvHeads !== 0) throw new ConfigError(`config.json text_config: ${text.numHeads} heads do not split into ${text.numKvHeads} key/value heads`);
  if (vision.imageSize % vision.patchSize !== 0) throw new ConfigError(`config.json vision_config: image_size ${vision.imageSize} is not a multiple of patch_size ${vision.patchSize}`);
  const pooling = num(c, 'image_pooling', 'config.json', 1);
  const side = vision.imageSize / vision.patchSize;
  if (side % pooling !== 0) throw new ConfigError(`config.json image_pooling ${pooling} does not divide the ${side}x${side} patch grid`);
  const select = oneOf(c, 'vision_feature_select_strategy', ['default', 'full'] as const, 'default', 'config.json');
  const pinpoints = Array.isArray(c.image_grid_pinpoints) ? (c.image_grid_pinpoints as [number, number][]) : [];
  return Object.freeze({
    architecture: arch as Architecture,
    vision,
    text,
    imageTokenIndex: num(c, c.image_token_index !== undefined ? 'image_token_index' : 'image_token_id', 'config.json', 32000),
    projectorHiddenAct: oneOf(c, 'projector_hidden_act', ['gelu', 'gelu_pytorch_tanh'] as const, 'gelu', 'config.json'),
    projectorBias: bool(c, 'multimodal_projector_bias', true),
    visionFeatureLayer: num(c, 'vision_feature_layer', 'config.json', -2),
    visionFeatureSelect: select,
    imagePooling: pooling,
    imageSeqLength: (side / pooling) ** 2 + (select === 'full' ? 1 : 0),
    gridPinpoints: pinpoints,
  });
}

/** Idefics3ForConditionalGeneration (SmolVLM): a SigLIP tower, the pixel-shuffle connector and a Llama decoder. */
export interface Idefics3Config {
  architecture: 'idefics3';
  vision: VisionConfig;
  text: TextConfig;
  imageTokenId: number;
  /** Pixel shuffle factor r: r x r patches become one token of r^2 times the width. */
  scaleFactor: number;
  /** Image tokens per tile: (patches per side / r)^2, processor_config.json's image_seq_len. */
  imageSeqLength: number;
}

/** config.json's model_type, which picks the family's parser. */
export function modelTypeOf(raw: unknown): unknown {
  return typeof raw === 'object' && raw !== null ? (raw as Json).model_type : undefined;
}

/** config.json (and processor_config.json, when the repo has one) of an Idefics3 / SmolVLM repo. */
export function parseIdefics3Config(raw: unknown, processor?: unknown): Idefics3Config {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('config.json is not a JSON object');
  const c = raw as Json;
  if (c.model_type !== 'idefics3') throw new ConfigError(`config.json model_type ${JSON.stringify(c.model_type)} is not idefics3`);
  if (typeof c.vision_config !== 'object' || c.vision_config === null) throw new ConfigError('config.json has no vision_config');
  if (typeof c.text_config !== 'object' || c.text_config === null) throw new ConfigError('config.json has no text_config');
  const vision = parseVision(c.vision_config as Json, ['idefics3_vision', 'siglip_vision_model']);
  const text = parseText(c.text_config as Json, bool(c, 'tie_word_embeddings', false));
  if (text.numHeads % text.numKvHeads !== 0) throw new ConfigError(`config.json text_config: ${text.numHeads} heads do not split into ${text.numKvHeads} key/value heads`);
  if (vision.imageSize % vision.patchSize !== 0) throw new ConfigError(`config.json vision_config: image_size ${vision.imageSize} is not a multiple of patch_size ${vision.patchSize}`);
  if (vision.hiddenSize % vision.numHeads !== 0) throw new ConfigError(`config.json vision_config: hidden_size ${vision.hiddenSize} does not split into ${vision.numHeads} heads`);
  const scaleFactor = num(c, 'scale_factor', 'config.json', 2);
  const side = vision.imageSize / vision.patchSize;
  if (!Number.isInteger(scaleFactor) || scaleFactor < 1 || side % scaleFactor !== 0) {
    throw new ConfigError(`config.json scale_factor ${scaleFactor} does not divide the ${side}x${side} patch grid`);
  }
  const imageSeqLength = (side / scaleFactor) ** 2;
  if (typeof processor === 'object' && processor !== null && (processor as Json).image_seq_len !== undefined) {
    const declared = num(processor as Json, 'image_seq_len', 'processor_config.json');
    if (declared !== imageSeqLength) {
      throw new ConfigError(`processor_config.json image_seq_len is ${declared} but config.json gives (${side} / ${scaleFactor})^2 = ${imageSeqLength} tokens per tile`);
    }
  }
  return Object.freeze({
    architecture: 'idefics3' as const,
    vision,
    text,
    imageTokenId: num(c, 'image_token_id', 'config.json'),
    scaleFactor,
    imageSeqLength,
  });
}
