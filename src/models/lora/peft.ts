/**
 * PEFT's LoRA files: adapter_config.json and adapter_model.safetensors, as
 * peft's save_pretrained writes them and PeftModel.from_pretrained reads them.
 *
 * Keys are `base_model.model.<module path>.lora_A.weight` / `.lora_B.weight`
 * (PEFT drops the adapter name "default" when saving), and a module in
 * modules_to_save is stored under its own path with its full weights
 * (`base_model.model.multi_modal_projector.linear_1.weight`). Module paths are
 * the checkpoint's (`language_model.model.layers.N...`), the names our
 * safetensors use; PEFT maps them onto transformers' newer LLaVA layout
 * (`model.language_model.layers.N...`) through the model's
 * _checkpoint_conversion_mapping, and we read that newer form too.
 */
import type { LlavaConfig } from '../config';
import { SafetensorsError, SafetensorsFile, writeSafetensors } from '../safetensors';
import { TOKEN_ROWS_SUFFIX, visionTargetPath } from './names';
import { LORA_TARGETS, VISION_TARGETS, visionPlan, type LoraAdapterData, type LoraConfig, type LoraTarget, type NamedTensor, type PeftFiles, type VisionTarget } from './types';

export const PEFT_PREFIX = 'base_model.model.';
const PROJECTOR = 'multi_modal_projector';
const VISION_ENCODER = 'vision_tower.vision_model.encoder';
/** The modules trainable_token_indices names, by PEFT's key, and their checkpoint paths. */
const TOKEN_LAYERS = { embed_tokens: 'language_model.model.embed_tokens', lm_head: 'language_model.lm_head' } as const;

/** An adapter that cannot be used with this model: the message says which file, tensor or field, and why. */
export class PeftError extends Error {
  override readonly name = 'PeftError';
}

const ATTENTION: readonly LoraTarget[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

/** The HF module path of a target in decoder layer `layer`. */
export function loraModulePath(layer: number, target: LoraTarget): string {
  const block = ATTENTION.includes(target) ? 'self_attn' : 'mlp';
  return `language_model.model.layers.${layer}.${block}.${target}`;
}

/** [out_features, in_features] of a target's linear layer. */
export function targetShape(config: LlavaConfig, target: LoraTarget): [number, number] {
  const t = config.text;
  const d = t.hiddenSize;
  switch (target) {
    case 'q_proj':
      return [t.numHeads * t.headDim, d];
    case 'k_proj':
    case 'v_proj':
      return [t.numKvHeads * t.headDim, d];
    case 'o_proj':
      return [d, t.numHeads * t.headDim];
    case 'gate_proj':
    case 'up_proj':
      return [t.intermediateSize, d];
    case 'down_proj':
      return [d, t.intermediateSize];
  }
}

/** Every tensor an adapter with this config holds for this model, in PEFT key names, with its shape. */
export function adapterShapes(model: LlavaConfig, lora: Pick<LoraConfig, 'rank' | 'targetModules' | 'trainProjector' | 'visionLayers' | 'visionTargets' | 'tokenIds'>): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (let layer = 0; layer < model.text.numLayers; layer++) {
    for (const target of LORA_TARGETS) {
      if (!lora.targetModules.includes(target)) continue;
      const [out, inp] = targetShape(model, target);
      const key = `${PEFT_PREFIX}${loraModulePath(layer, target)}`;
      shapes.set(`${key}.lora_A.weight`, [lora.rank, inp]);
      shapes.set(`${key}.lora_B.weight`, [out, lora.rank]);
    }
  }
  if (lora.trainProjector) {
    const d = model.text.hiddenSize;
    const p = `${PEFT_PREFIX}${PROJECTOR}`;
    shapes.set(`${p}.linear_1.weight`, [d, model.vision.hiddenSize]);
    shapes.set(`${p}.linear_2.weight`, [d, d]);
    if (model.projectorBias) {
      shapes.set(`${p}.linear_1.bias`, [d]);
      shapes.set(`${p}.linear_2.bias`, [d]);
    }
  }
  const v = model.vision;
  const plan = visionPlan(lora as LoraConfig);
  for (const layer of plan.layers) {
    for (const target of plan.targets) {
      const [out, inp] = target === 'fc1' ? [v.intermediateSize, v.hiddenSize] : target === 'fc2' ? [v.hiddenSize, v.intermediateSize] : [v.hiddenSize, v.hiddenSize];
      const key = `${PEFT_PREFIX}${VISION_ENCODER}.${visionTargetPath(layer, target)}`;
      shapes.set(`${key}.lora_A.weight`, [lora.rank, inp]);
      shapes.set(`${key}.lora_B.weight`, [out, lora.rank]);
    }
  }
  const ids = lora.tokenIds ?? [];
  if (ids.length > 0) {
    const rows = [new Set(ids).size, model.text.hiddenSize];
    shapes.set(`${PEFT_PREFIX}${TOKEN_LAYERS.embed_tokens}${TOKEN_ROWS_SUFFIX}`, rows);
    if (!model.text.tieWordEmbeddings) shapes.set(`${PEFT_PREFIX}${TOKEN_LAYERS.lm_head}${TOKEN_ROWS_SUFFIX}`, rows);
  }
  return shapes;
}

/** trainable_token_indices as PEFT writes it for rows of both layers (one list each); null without trained rows. */
function tokenIndicesField(config: LoraConfig, tied: boolean): Record<string, number[]> | null {
  const ids = [...new Set(config.tokenIds ?? [])].sort((a, b) => a - b);
  if (ids.length === 0) return null;
  return tied ? { embed_tokens: ids } : { embed_tokens: ids, lm_head: ids };
}

/** adapter_config.json as PEFT writes it for a LoRA on a causal LM (keys sorted, as its to_json_string does). */
export function adapterConfigJson(config: LoraConfig, tied = false): string {
  const plan = visionPlan(config);
  const fields: Record<string, unknown> = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: config.baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: config.alpha,
    lora_dropout: config.dropout,
    modules_to_save: config.trainProjector ? [PROJECTOR] : null,
    peft_type: 'LORA',
    r: config.rank,
    rank_pattern: {},
    revision: null,
    // Leaf names, as PEFT lists them; vision layers that are not trained have no tensors, so PEFT's fresh B = 0 leaves them unchanged.
    target_modules: [...new Set<string>([...config.targetModules, ...plan.targets])].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
  const indices = tokenIndicesField(config, tied);
  if (indices) fields.trainable_token_indices = indices;
  return `${JSON.stringify(fields, null, 2)}\n`;
}

export function toPeftFiles(adapter: LoraAdapterData): PeftFiles {
  const tied = (adapter.config.tokenIds ?? []).length > 0 && !adapter.tensors.some((t) => t.name.endsWith(`lm_head${TOKEN_ROWS_SUFFIX}`));
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const t of [...adapter.tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!t.name.startsWith(PEFT_PREFIX)) throw new PeftError(`tensor ${t.name} is not in PEFT's key names (${PEFT_PREFIX}...)`);
    tensors[t.name] = { shape: [...t.shape], data: t.data };
  }
  return { adapterConfig: adapterConfigJson(adapter.config, tied), safetensors: writeSafetensors(tensors, { format: 'pt' }) };
}

/** What an imported adapter is checked against: the loaded model's id and config. */
export interface PeftBase {
  modelId: string;
  config: LlavaConfig;
}

function lastSegment(id: string): string {
  return id.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? id;
}

function field<T>(raw: Record<string, unknown>, name: string, check: (v: unknown) => v is T, want: string): T {
  const v = raw[name];
  if (!check(v)) throw new PeftError(`adapter_config.json: ${name} must be ${want} (found ${JSON.stringify(v)})`);
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** Fields whose non-default values change what the adapter computes, and so cannot be ignored. */
const UNSUPPORTED: [string, (v: unknown) => boolean, string][] = [
  ['use_dora', (v) => v === true, 'DoRA adapters are not supported (use_dora is true)'],
  ['use_rslora', (v) => v === true, 'rank-stabilised LoRA is not supported (use_rslora is true)'],
  ['fan_in_fan_out', (v) => v === true, 'fan_in_fan_out adapters (Conv1D layers) do not fit a Llama decoder'],
  ['bias', (v) => v !== undefined && v !== 'none', 'adapters that train biases (bias other than "none") are not supported'],
  ['layers_to_transform', (v) => v !== undefined && v !== null, 'adapters limited to some layers (layers_to_transform) are not supported'],
  ['rank_pattern', (v) => v !== undefined && v !== null && Object.keys(v as object).length > 0, 'per-module ranks (rank_pattern) are not supported'],
  ['alpha_pattern', (v) => v !== undefined && v !== null && Object.keys(v as object).length > 0, 'per-module alphas (alpha_pattern) are not supported'],
];

/** trainable_token_indices: a list (the input embedding's rows) or lists by module name; one set of ids for both layers. */
function tokenIds(raw: unknown): number[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const isIds = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0);
  if (isIds(raw)) return [...new Set(raw)].sort((a, b) => a - b);
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new PeftError(`adapter_config.json: trainable_token_indices must be a list of token ids or lists by module (found ${JSON.stringify(raw)})`);
  const lists = Object.entries(raw as Record<string, unknown>);
  const unknown = lists.filter(([k]) => !(k in TOKEN_LAYERS) && !Object.values(TOKEN_LAYERS).some((p) => p.endsWith(`.${k}`) || p === k));
  if (unknown.length > 0) throw new PeftError(`adapter_config.json: trainable_token_indices names ${unknown.map(([k]) => k).join(', ')}; only embed_tokens and lm_head rows can be applied`);
  const sets = lists.map(([k, v]) => {
    if (!isIds(v)) throw new PeftError(`adapter_config.json: trainable_token_indices.${k} must be a list of token ids`);
    return [...new Set(v)].sort((a, b) => a - b).join(',');
  });
  if (new Set(sets).size > 1) throw new PeftError('adapter_config.json: trainable_token_indices lists different tokens for embed_tokens and lm_head, which is not supported');
  return sets[0] ? sets[0].split(',').map(Number) : undefined;
}

function parseConfig(text: string, base: PeftBase, keys: readonly string[]): LoraConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PeftError(`adapter_config.json is not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PeftError('adapter_config.json is not a JSON object');
  const r = raw as Record<string, unknown>;
  const peftType = r.peft_type;
  if (peftType !== 'LORA') throw new PeftError(`adapter_config.json: peft_type is ${JSON.stringify(peftType)}; only LORA adapters can be imported`);
  for (const [name, bad, why] of UNSUPPORTED) if (bad(r[name])) throw new PeftError(`adapter_config.json: ${why}`);
  const rank = field(r, 'r', (v): v is number => Number.isInteger(v) && (v as number) > 0, 'a positive integer');
  const alpha = field(r, 'lora_alpha', isNumber, 'a number');
  const dropout = r.lora_dropout === undefined ? 0 : field(r, 'lora_dropout', isNumber, 'a number');
  const targets = r.target_modules;
  if (!Array.isArray(targets) || !targets.every(isString)) {
    throw new PeftError(`adapter_config.json: target_modules must be a list of module names (found ${JSON.stringify(targets)}); a regular expression cannot be checked here`);
  }
  const known: readonly string[] = [...LORA_TARGETS, ...VISION_TARGETS];
  const unknown = targets.filter((t) => !known.includes(t));
  if (unknown.length > 0) throw new PeftError(`adapter_config.json: target_modules ${unknown.join(', ')} are not linear layers of the decoder or the vision encoder (supported: ${[...new Set(known)].join(', ')})`);
  // Vision layers and targets are those the tensors name; with any, the decoder's targets are likewise read from the tensors.
  const visionKeys = keys.filter((k) => k.startsWith(`${PEFT_PREFIX}${VISION_ENCODER}.layers.`) && k.endsWith('.lora_A.weight'));
  const visionLayers = [...new Set(visionKeys.map((k) => Number(k.slice(`${PEFT_PREFIX}${VISION_ENCODER}.layers.`.length).split('.')[0])))].sort((a, b) => a - b);
  const visionTargets = VISION_TARGETS.filter((t) => targets.includes(t) && visionKeys.some((k) => k.endsWith(`.${t}.lora_A.weight`)));
  const decoderTargets = LORA_TARGETS.filter((t) => targets.includes(t) && (visionKeys.length === 0 || keys.some((k) => k.startsWith(`${PEFT_PREFIX}language_model.`) && k.endsWith(`.${t}.lora_A.weight`))));
  const save = r.modules_to_save;
  const saved = Array.isArray(save) ? save : [];
  const otherSaved = saved.filter((m) => m !== PROJECTOR);
  if (otherSaved.length > 0) throw new PeftError(`adapter_config.json: modules_to_save ${otherSaved.join(', ')} cannot be applied (only ${PROJECTOR})`);
  const baseName = typeof r.base_model_name_or_path === 'string' ? r.base_model_name_or_path : '';
  if (baseName !== '' && baseName !== base.modelId && lastSegment(baseName) !== lastSegment(base.modelId)) {
    throw new PeftError(`the adapter was trained on ${baseName}, but the loaded model is ${base.modelId}; load ${baseName} first`);
  }
  const ids = tokenIds(r.trainable_token_indices);
  return {
    rank,
    alpha,
    dropout,
    targetModules: decoderTargets,
    trainProjector: saved.includes(PROJECTOR),
    baseModel: base.modelId,
    ...(visionLayers.length ? { visionLayers, visionTargets: visionTargets as VisionTarget[] } : {}),
    ...(ids ? { tokenIds: ids } : {}),
  };
}

/** transformers' newer LLaVA module names, mapped back to the checkpoint's. */
function canonicalKey(key: string): string {
  const inner = key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : key;
  const mapped = inner.startsWith('model.language_model.')
    ? `language_model.model.${inner.slice('model.language_model.'.length)}`
    : inner.startsWith(`model.${PROJECTOR}.`) || inner.startsWith('model.vision_tower.')
      ? inner.slice('model.'.length)
      : inner.startsWith('lm_head.')
        ? `language_model.${inner}`
        : inner;
  return `${PEFT_PREFIX}${mapped}`;
}

/** Read PEFT's two files for the loaded model, refusing anything that does not fit it. */
export function fromPeftFiles(files: PeftFiles, base: PeftBase): LoraAdapterData {
  let file: SafetensorsFile;
  try {
    const bytes = files.safetensors;
    file = new SafetensorsFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, 'adapter_model.safetensors');
  } catch (err) {
    if (err instanceof SafetensorsError) throw new PeftError(err.message);
    throw err;
  }
  const config = parseConfig(files.adapterConfig, base, [...file.tensors.keys()].map(canonicalKey));
  const expected = adapterShapes(base.config, config);
  const tensors: NamedTensor[] = [];
  for (const stored of file.tensors.keys()) {
    const name = canonicalKey(stored);
    const shape = expected.get(name);
    if (!shape) throw new PeftError(`adapter_model.safetensors: tensor ${stored} is not part of a rank-${config.rank} LoRA on ${config.targetModules.join(', ')} for this model`);
    const info = file.info(stored);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new PeftError(`adapter_model.safetensors: tensor ${stored} is [${info.shape.join(', ')}] but this model needs [${shape.join(', ')}]`);
    }
    let data: Float32Array;
    try {
      data = Float32Array.from(file.float32(stored));
    } catch (err) {
      throw new PeftError((err as Error).message);
    }
    tensors.push({ name, shape: [...shape], data });
  }
  const have = new Set(tensors.map((t) => t.name));
  const missing = [...expected.keys()].filter((k) => !have.has(k));
  if (missing.length > 0) throw new PeftError(`adapter_model.safetensors lacks ${missing.length} tensor(s) its config implies, e.g. ${missing[0]}`);
  tensors.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { config, tensors };
}
