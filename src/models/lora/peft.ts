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
 * Idefics3 (SmolVLM) adapters are named by its own paths
 * (`model.text_model.layers.N...`, see names.ts peftLayout); an adapter for
 * one family is refused on the other, naming the tensor that shows it.
 */
import { SafetensorsError, SafetensorsFile, writeSafetensors } from '../safetensors';
import { DECODER_PATHS, peftLayout, targetModulePath, TOKEN_ROWS_SUFFIX, visionTargetPath, type AdapterModelConfig, type PeftLayout } from './names';
import { LORA_TARGETS, VISION_TARGETS, visionPlan, type LoraAdapterData, type LoraConfig, type LoraTarget, type NamedTensor, type PeftFiles, type VisionTarget } from './types';

export const PEFT_PREFIX = 'base_model.model.';
/** LLaVA's projector module: the only one modules_to_save may name. */
const PROJECTOR = 'multi_modal_projector';

/** An adapter that cannot be used with this model: the message says which file, tensor or field, and why. */
export class PeftError extends Error {
  override readonly name = 'PeftError';
}

/** [out_features, in_features] of a target's linear layer. */
export function targetShape(config: AdapterModelConfig, target: LoraTarget): [number, number] {
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

type ShapedConfig = Pick<LoraConfig, 'rank' | 'targetModules' | 'trainProjector' | 'visionLayers' | 'visionTargets' | 'tokenIds'>;

/** Every tensor an adapter with this config holds for this model, in PEFT key names, with its shape; throws naming a part the family cannot take. */
export function adapterShapes(model: AdapterModelConfig, lora: ShapedConfig): Map<string, number[]> {
  const layout = peftLayout(model);
  const shapes = new Map<string, number[]>();
  for (let layer = 0; layer < model.text.numLayers; layer++) {
    for (const target of LORA_TARGETS) {
      if (!lora.targetModules.includes(target)) continue;
      const [out, inp] = targetShape(model, target);
      const key = `${PEFT_PREFIX}${layout.decoder}.${targetModulePath(layer, target)}`;
      shapes.set(`${key}.lora_A.weight`, [lora.rank, inp]);
      shapes.set(`${key}.lora_B.weight`, [out, lora.rank]);
    }
  }
  if (lora.trainProjector) {
    if (!layout.projector) throw new PeftError(`a trained projector (modules_to_save) cannot be applied to ${layout.family} models here; only decoder LoRA can`);
    for (const lin of layout.projector.linears) {
      shapes.set(`${PEFT_PREFIX}${lin.path}.weight`, [...lin.shape]);
      if (lin.bias) shapes.set(`${PEFT_PREFIX}${lin.path}.bias`, [lin.shape[0]]);
    }
  }
  const plan = visionPlan(lora as LoraConfig);
  if (plan.layers.length > 0 && !layout.vision) throw new PeftError(`vision encoder LoRA cannot be applied to ${layout.family} models here; only decoder LoRA can`);
  for (const layer of layout.vision ? plan.layers : []) {
    const v = layout.vision as NonNullable<PeftLayout['vision']>;
    for (const target of plan.targets) {
      const [out, inp] = target === 'fc1' ? [v.intermediateSize, v.hiddenSize] : target === 'fc2' ? [v.hiddenSize, v.intermediateSize] : [v.hiddenSize, v.hiddenSize];
      const key = `${PEFT_PREFIX}${v.path}.${visionTargetPath(layer, target)}`;
      shapes.set(`${key}.lora_A.weight`, [lora.rank, inp]);
      shapes.set(`${key}.lora_B.weight`, [out, lora.rank]);
    }
  }
  const ids = lora.tokenIds ?? [];
  if (ids.length > 0) {
    if (!layout.tokenLayers) throw new PeftError(`trained token rows (trainable_token_indices) cannot be applied to ${layout.family} models here; only decoder LoRA can`);
    const rows = [new Set(ids).size, model.text.hiddenSize];
    shapes.set(`${PEFT_PREFIX}${layout.tokenLayers.embed_tokens}${TOKEN_ROWS_SUFFIX}`, rows);
    if (!model.text.tieWordEmbeddings) shapes.set(`${PEFT_PREFIX}${layout.tokenLayers.lm_head}${TOKEN_ROWS_SUFFIX}`, rows);
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

/** What an imported adapter is checked against: the loaded model's id and config (LLaVA or Idefics3). */
export interface PeftBase {
  modelId: string;
  config: AdapterModelConfig;
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
function tokenIds(raw: unknown, layout: PeftLayout): number[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const layers = layout.tokenLayers;
  if (!layers) throw new PeftError(`adapter_config.json: trainable_token_indices (trained token rows) cannot be applied to ${layout.family} models here; only decoder LoRA can`);
  const isIds = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0);
  if (isIds(raw)) return [...new Set(raw)].sort((a, b) => a - b);
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new PeftError(`adapter_config.json: trainable_token_indices must be a list of token ids or lists by module (found ${JSON.stringify(raw)})`);
  const lists = Object.entries(raw as Record<string, unknown>);
  const unknown = lists.filter(([k]) => !(k in layers) && !Object.values(layers).some((p) => p.endsWith(`.${k}`) || p === k));
  if (unknown.length > 0) throw new PeftError(`adapter_config.json: trainable_token_indices names ${unknown.map(([k]) => k).join(', ')}; only embed_tokens and lm_head rows can be applied`);
  const sets = lists.map(([k, v]) => {
    if (!isIds(v)) throw new PeftError(`adapter_config.json: trainable_token_indices.${k} must be a list of token ids`);
    return [...new Set(v)].sort((a, b) => a - b).join(',');
  });
  if (new Set(sets).size > 1) throw new PeftError('adapter_config.json: trainable_token_indices lists different tokens for embed_tokens and lm_head, which is not supported');
  return sets[0] ? sets[0].split(',').map(Number) : undefined;
}

function parseConfig(text: string, base: PeftBase, layout: PeftLayout, keys: readonly string[]): LoraConfig {
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
  const visionKeys = keys.filter((k) => VISION_LAYER.test(k) && k.endsWith('.lora_A.weight'));
  const visionLayers = [...new Set(visionKeys.map((k) => Number(VISION_LAYER.exec(k)?.[1])))].sort((a, b) => a - b);
  const visionTargets = VISION_TARGETS.filter((t) => targets.includes(t) && visionKeys.some((k) => k.endsWith(`.${t}.lora_A.weight`)));
  const decoderTargets = LORA_TARGETS.filter((t) => targets.includes(t) && (visionKeys.length === 0 || keys.some((k) => k.startsWith(`${PEFT_PREFIX}${layout.decoder}.`) && k.endsWith(`.${t}.lora_A.weight`))));
  const save = r.modules_to_save;
  const saved = Array.isArray(save) ? save : [];
  const projector = layout.projector?.module;
  const otherSaved = saved.filter((m) => m !== projector);
  if (otherSaved.length > 0) throw new PeftError(`adapter_config.json: modules_to_save ${otherSaved.join(', ')} cannot be applied to ${layout.family} models here (${projector ? `only ${projector}` : 'only decoder LoRA can'})`);
  const baseName = typeof r.base_model_name_or_path === 'string' ? r.base_model_name_or_path : '';
  if (baseName !== '' && baseName !== base.modelId && lastSegment(baseName) !== lastSegment(base.modelId)) {
    throw new PeftError(`the adapter was trained on ${baseName}, but the loaded model is ${base.modelId}; load ${baseName} first`);
  }
  const ids = tokenIds(r.trainable_token_indices, layout);
  return {
    rank,
    alpha,
    dropout,
    targetModules: decoderTargets,
    trainProjector: projector !== undefined && saved.includes(projector),
    baseModel: base.modelId,
    ...(visionLayers.length ? { visionLayers, visionTargets: visionTargets as VisionTarget[] } : {}),
    ...(ids ? { tokenIds: ids } : {}),
  };
}

/** A vision encoder layer's LoRA tensor, in either family's path (vision_tower.vision_model.encoder, model.vision_model.encoder). */
const VISION_LAYER = /vision_model\.encoder\.layers\.(\d+)\./;

/** transformers' newer LLaVA module names, mapped back to the checkpoint's; Idefics3's keys are its checkpoint's in both layouts. */
function canonicalKey(key: string, layout: PeftLayout): string {
  const inner = key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : key;
  if (layout.family !== 'LLaVA') return `${PEFT_PREFIX}${inner}`;
  const mapped = inner.startsWith('model.language_model.')
    ? `language_model.model.${inner.slice('model.language_model.'.length)}`
    : inner.startsWith(`model.${PROJECTOR}.`) || inner.startsWith('model.vision_tower.')
      ? inner.slice('model.'.length)
      : inner.startsWith('lm_head.')
        ? `language_model.${inner}`
        : inner;
  return `${PEFT_PREFIX}${mapped}`;
}

/** An adapter whose decoder tensors sit under another family's module path was made for another model: say which. */
function refuseOtherFamily(keys: readonly string[], layout: PeftLayout, modelId: string): void {
  for (const other of DECODER_PATHS) {
    if (other.family === layout.family) continue;
    const key = keys.find((k) => k.startsWith(`${PEFT_PREFIX}${other.decoder}.layers.`));
    if (key) {
      throw new PeftError(
        `tensor ${key} is on ${other.family}'s decoder (${other.decoder}.layers...), but ${modelId} is ${layout.family}, whose decoder is ${layout.decoder}.layers...: the adapter was made for another model`,
      );
    }
  }
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
  const layout = peftLayout(base.config);
  const keys = [...file.tensors.keys()];
  refuseOtherFamily(keys, layout, base.modelId);
  const config = parseConfig(files.adapterConfig, base, layout, keys.map((k) => canonicalKey(k, layout)));
  const expected = adapterShapes(base.config, config);
  const tensors: NamedTensor[] = [];
  for (const stored of keys) {
    const name = canonicalKey(stored, layout);
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
