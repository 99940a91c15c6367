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
import { LORA_TARGETS, type LoraAdapterData, type LoraConfig, type LoraTarget, type NamedTensor, type PeftFiles } from './types';

export const PEFT_PREFIX = 'base_model.model.';
const PROJECTOR = 'multi_modal_projector';

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
export function adapterShapes(model: LlavaConfig, lora: Pick<LoraConfig, 'rank' | 'targetModules' | 'trainProjector'>): Map<string, number[]> {
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
  return shapes;
}

/** adapter_config.json as PEFT writes it for a LoRA on a causal LM (keys sorted, as its to_json_string does). */
export function adapterConfigJson(config: LoraConfig): string {
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
    target_modules: [...config.targetModules].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
  return `${JSON.stringify(fields, null, 2)}\n`;
}

export function toPeftFiles(adapter: LoraAdapterData): PeftFiles {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const t of [...adapter.tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!t.name.startsWith(PEFT_PREFIX)) throw new PeftError(`tensor ${t.name} is not in PEFT's key names (${PEFT_PREFIX}...)`);
    tensors[t.name] = { shape: [...t.shape], data: t.data };
  }
  return { adapterConfig: adapterConfigJson(adapter.config), safetensors: writeSafetensors(tensors, { format: 'pt' }) };
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

function parseConfig(text: string, base: PeftBase): LoraConfig {
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
  const unknown = targets.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) throw new PeftError(`adapter_config.json: target_modules ${unknown.join(', ')} are not linear layers of the decoder (supported: ${LORA_TARGETS.join(', ')})`);
  const save = r.modules_to_save;
  const saved = Array.isArray(save) ? save : [];
  const otherSaved = saved.filter((m) => m !== PROJECTOR);
  if (otherSaved.length > 0) throw new PeftError(`adapter_config.json: modules_to_save ${otherSaved.join(', ')} cannot be applied (only ${PROJECTOR})`);
  const baseName = typeof r.base_model_name_or_path === 'string' ? r.base_model_name_or_path : '';
  if (baseName !== '' && baseName !== base.modelId && lastSegment(baseName) !== lastSegment(base.modelId)) {
    throw new PeftError(`the adapter was trained on ${baseName}, but the loaded model is ${base.modelId}; load ${baseName} first`);
  }
  return { rank, alpha, dropout, targetModules: LORA_TARGETS.filter((t) => targets.includes(t)), trainProjector: saved.includes(PROJECTOR), baseModel: base.modelId };
}

/** transformers' newer LLaVA module names, mapped back to the checkpoint's. */
function canonicalKey(key: string): string {
  const inner = key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : key;
  const mapped = inner.startsWith('model.language_model.')
    ? `language_model.model.${inner.slice('model.language_model.'.length)}`
    : inner.startsWith(`model.${PROJECTOR}.`)
      ? inner.slice('model.'.length)
      : inner;
  return `${PEFT_PREFIX}${mapped}`;
}

/** Read PEFT's two files for the loaded model, refusing anything that does not fit it. */
export function fromPeftFiles(files: PeftFiles, base: PeftBase): LoraAdapterData {
  const config = parseConfig(files.adapterConfig, base);
  let file: SafetensorsFile;
  try {
    const bytes = files.safetensors;
    file = new SafetensorsFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, 'adapter_model.safetensors');
  } catch (err) {
    if (err instanceof SafetensorsError) throw new PeftError(err.message);
    throw err;
  }
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
