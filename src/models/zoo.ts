/**
 * The models the app offers, as data: where their files live, roughly how big
 * a download is, what each can do, and which engine can run it.
 *
 * Our engines (native WGSL and our ONNX driver) run the llava family (CLIP
 * vision tower + projector + Llama decoder, config model_type llava /
 * llava_next), which is what the bundled model is; the native engine also
 * runs SmolVLM (idefics3) from the hub's model.safetensors. The hub models
 * below run on the transformers engine (@huggingface/transformers' own model
 * classes), their files fetched through the same weight cache.
 * Hub sizes are estimates from parameter counts and per-dtype widths; the
 * exact bytes come from the hub (HEAD) before a download starts.
 */

/** 'document-text': answers questions about a page given its OCR or text-layer lines as context. */
export type Capability = 'chat' | 'grounding' | 'ocr' | 'caption' | 'document-text';
/** 'transformers.js': @huggingface/transformers' model classes on onnxruntime-web. */
export type ZooEngine = 'native' | 'onnx' | 'transformers.js';
/** Native weight dtypes (quantized at load) and transformers.js' ONNX file variants. */
export type ZooDtype = 'f32' | 'f16' | 'int8' | 'int4' | 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';
export type GpuFeature = 'shader-f16';

export interface ZooDtypeChoice {
  dtype: ZooDtype;
  /** Adapter features this dtype needs; it is offered only where the adapter has them. */
  requires: GpuFeature[];
  /** Approximate download in bytes; null where it is measured from the files (bundled model). */
  approxBytes: number | null;
}

export interface ZooEngineChoice {
  engine: ZooEngine;
  /** This app can load and chat with it on this engine today. */
  runsHere: boolean;
  dtypes: ZooDtypeChoice[];
}

export interface ZooEntry {
  /** The files' home: a hub repo id (org/name), or the bundled model's folder under /models/. */
  id: string;
  label: string;
  source: 'bundled' | 'hub';
  /** The original checkpoint when `id` is an ONNX export of it. */
  basedOn?: string;
  /** config.json model_type. */
  modelType: string;
  /** Approximate parameter count. */
  params: number;
  capabilities: Capability[];
  engines: ZooEngineChoice[];
  /** transformers.js layout: the onnx/<part><dtype suffix>.onnx sessions it loads. */
  onnxParts?: string[];
  isDefault: boolean;
  license: string;
  note: string;
}

export interface ZooFile {
  name: string;
  /** Absent in some repos; a 404 skips it. */
  optional?: boolean;
}

export const DEFAULT_HUB = 'https://huggingface.co';
export const BUNDLED_MODEL = 'webvlm-tiny';

/** The hub's file layout: <hub>/<id>/resolve/<revision>/<file>. */
export function hubBaseUrl(id: string, hub = DEFAULT_HUB, revision = 'main'): string {
  return `${hub.replace(/\/+$/, '')}/${id}/resolve/${encodeURIComponent(revision)}/`;
}

/** Bytes per parameter of each transformers.js variant (q4 keeps some tensors wider; these are averages). */
const WIDTH: Record<ZooDtype, number> = { f32: 4, f16: 4, int8: 4, int4: 4, fp32: 4, fp16: 2, q8: 1.05, q4: 0.75, q4f16: 0.6 };
const F16: GpuFeature[] = ['shader-f16'];

/** What the native engine can keep weights as: f16 (read by f32 kernels) only where shaders have f16. */
const NATIVE_DTYPES = ['f32', 'f16', 'int8', 'int4'] as const;
const nativeRequires = (dtype: ZooDtype): GpuFeature[] => (dtype === 'f16' ? F16 : []);

function tjsDtypes(params: number, offered: { dtype: ZooDtype; requires?: GpuFeature[] }[]): ZooDtypeChoice[] {
  return offered.map((o) => ({ dtype: o.dtype, requires: o.requires ?? [], approxBytes: Math.round(params * WIDTH[o.dtype]) }));
}

const IMAGE_TEXT_PARTS = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'];
const SMALL_DTYPES = [{ dtype: 'fp32' as const }, { dtype: 'fp16' as const, requires: F16 }, { dtype: 'q8' as const }, { dtype: 'q4' as const }, { dtype: 'q4f16' as const, requires: F16 }];
const TJS_NOTE = 'Runs on the transformers engine (@huggingface/transformers), WebGPU on a real GPU, wasm on a software adapter.';
const FLORENCE_PARTS = ['vision_encoder', 'embed_tokens', 'encoder_model', 'decoder_model_merged'];

interface TjsHubModel extends Pick<ZooEntry, 'id' | 'label' | 'modelType' | 'params' | 'capabilities' | 'license'> {
  basedOn?: string;
  dtypes?: { dtype: ZooDtype; requires?: GpuFeature[] }[];
  onnxParts?: string[];
  note?: string;
  /** The native engine runs it too, from model.safetensors (bf16 on the hub, 2 bytes a parameter to download). */
  native?: boolean;
}

/** A hub model that the transformers engine runs (and the native engine when `native`). */
function tjsHubModel(m: TjsHubModel): ZooEntry {
  return {
    id: m.id,
    label: m.label,
    source: 'hub',
    ...(m.basedOn ? { basedOn: m.basedOn } : {}),
    modelType: m.modelType,
    params: m.params,
    capabilities: m.capabilities,
    engines: [
      { engine: 'transformers.js', runsHere: true, dtypes: tjsDtypes(m.params, m.dtypes ?? SMALL_DTYPES) },
      ...(m.native ? [{ engine: 'native' as const, runsHere: true, dtypes: NATIVE_DTYPES.map((dtype) => ({ dtype, requires: nativeRequires(dtype), approxBytes: Math.round(m.params * 2) })) }] : []),
    ],
    onnxParts: m.onnxParts ?? IMAGE_TEXT_PARTS,
    isDefault: false,
    license: m.license,
    note: m.note ?? (m.native ? `${TJS_NOTE} The native engine runs it too, from the repo's model.safetensors.` : TJS_NOTE),
  };
}

export const ZOO: readonly ZooEntry[] = [
  {
    id: BUNDLED_MODEL,
    label: 'WebVLM tiny (bundled)',
    source: 'bundled',
    modelType: 'llava',
    params: 3.05e6,
    capabilities: ['chat', 'grounding', 'document-text'],
    engines: [
      {
        engine: 'native',
        runsHere: true,
        dtypes: NATIVE_DTYPES.map((dtype) => ({ dtype, requires: nativeRequires(dtype), approxBytes: null })),
      },
      { engine: 'onnx', runsHere: true, dtypes: [{ dtype: 'f32', requires: [], approxBytes: null }] },
    ],
    isDefault: true,
    license: 'trained here on synthetic data',
    note: 'Served with the app and works offline. Trained on synthetic scenes: colours, shapes, counts, positions, short words.',
  },
  tjsHubModel({ id: 'HuggingFaceTB/SmolVLM-256M-Instruct', label: 'SmolVLM 256M Instruct', modelType: 'idefics3', params: 256e6, capabilities: ['chat', 'ocr'], license: 'apache-2.0', native: true }),
  tjsHubModel({ id: 'HuggingFaceTB/SmolVLM-500M-Instruct', label: 'SmolVLM 500M Instruct', modelType: 'idefics3', params: 507e6, capabilities: ['chat', 'ocr'], license: 'apache-2.0', native: true }),
  tjsHubModel({ id: 'HuggingFaceTB/SmolVLM2-256M-Video-Instruct', label: 'SmolVLM2 256M', modelType: 'smolvlm', params: 256e6, capabilities: ['chat', 'ocr'], license: 'apache-2.0' }),
  tjsHubModel({
    id: 'onnx-community/Qwen2-VL-2B-Instruct',
    label: 'Qwen2-VL 2B Instruct',
    basedOn: 'Qwen/Qwen2-VL-2B-Instruct',
    modelType: 'qwen2_vl',
    params: 2.2e9,
    capabilities: ['chat', 'grounding', 'ocr'],
    // fp32 needs ONNX external data over 2 GB, which a browser session cannot map: not offered.
    dtypes: [{ dtype: 'fp16', requires: F16 }, { dtype: 'q4' }, { dtype: 'q4f16', requires: F16 }],
    license: 'apache-2.0',
    note: `${TJS_NOTE} About 2 GB or more to download.`,
  }),
  tjsHubModel({
    id: 'onnx-community/Florence-2-base',
    label: 'Florence-2 base',
    basedOn: 'microsoft/Florence-2-base',
    modelType: 'florence2',
    params: 232e6,
    capabilities: ['caption', 'grounding', 'ocr'],
    onnxParts: FLORENCE_PARTS,
    license: 'mit',
    note: `Task prompts (<OCR>, <CAPTION_TO_PHRASE_GROUNDING>, <OD>), not free chat. ${TJS_NOTE}`,
  }),
  tjsHubModel({
    id: 'onnx-community/Florence-2-base-ft',
    label: 'Florence-2 base (fine-tuned)',
    basedOn: 'microsoft/Florence-2-base-ft',
    modelType: 'florence2',
    params: 232e6,
    capabilities: ['caption', 'grounding', 'ocr'],
    onnxParts: FLORENCE_PARTS,
    license: 'mit',
    note: `Task prompts, not free chat. ${TJS_NOTE}`,
  }),
];

export function zooEntry(id: string): ZooEntry | undefined {
  return ZOO.find((e) => e.id === id);
}

/**
 * A hub repo not in the zoo, loaded by id: our engines can try it when it has
 * the bundled model's layout (llava config, model.safetensors, onnx/*.onnx).
 */
export function llavaRepoEntry(id: string): ZooEntry {
  const dtypes = (list: ZooDtype[]) => list.map((dtype) => ({ dtype, requires: [], approxBytes: null }));
  return {
    id,
    label: id,
    source: 'hub',
    modelType: 'llava',
    params: 0,
    capabilities: ['chat'],
    engines: [
      { engine: 'native', runsHere: true, dtypes: dtypes(['f32', 'int8', 'int4']) },
      { engine: 'onnx', runsHere: true, dtypes: dtypes(['f32']) },
    ],
    isDefault: false,
    license: 'see the repository',
    note: 'Not in the zoo: loaded by id, expecting the llava layout of the bundled model.',
  };
}

/** Dtypes an adapter with `features` can run. */
export function dtypeChoices(choice: ZooEngineChoice, features: ReadonlySet<string>): ZooDtypeChoice[] {
  return choice.dtypes.filter((d) => d.requires.every((f) => features.has(f)));
}

const LLAVA_CONFIGS: ZooFile[] = [
  { name: 'config.json' },
  { name: 'generation_config.json', optional: true },
  { name: 'preprocessor_config.json' },
  { name: 'tokenizer.json' },
  { name: 'tokenizer_config.json' },
];
/** Newer hub repos keep the chat template only here; the bundled model has it in tokenizer_config.json. */
const TEMPLATE_FILE: ZooFile = { name: 'chat_template.json', optional: true };
export const ONNX_ENGINE_FILES = ['onnx/vision_encoder.onnx', 'onnx/embed_tokens.onnx', 'onnx/decoder_model_merged.onnx'];

/** The files every transformers.js repo is read with, beside its ONNX sessions. */
export const TJS_CONFIGS: readonly ZooFile[] = [
  { name: 'config.json' },
  { name: 'generation_config.json', optional: true },
  { name: 'preprocessor_config.json' },
  { name: 'processor_config.json', optional: true },
  { name: 'tokenizer.json' },
  { name: 'tokenizer_config.json' },
  { name: 'chat_template.json', optional: true },
  { name: 'chat_template.jinja', optional: true },
];
/** transformers.js' file name suffix per dtype: onnx/<part><suffix>.onnx. */
export const TJS_FILE_SUFFIX: Partial<Record<ZooDtype, string>> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4', q4f16: '_q4f16' };

/** The files a model needs on an engine and dtype: what a download fetches and "cached" means. */
export function zooFiles(entry: ZooEntry, engine: ZooEngine, dtype?: ZooDtype): ZooFile[] {
  // SmolVLM reads processor_config.json (image_seq_len) and may keep its chat template in chat_template.json.
  const llavaConfigs = entry.source === 'hub' ? [...LLAVA_CONFIGS, TEMPLATE_FILE] : LLAVA_CONFIGS;
  if (engine === 'native') return [...(entry.modelType === 'idefics3' ? TJS_CONFIGS : llavaConfigs), { name: 'model.safetensors' }];
  if (engine === 'onnx') return [...llavaConfigs, ...ONNX_ENGINE_FILES.map((name) => ({ name }))];
  const suffix = TJS_FILE_SUFFIX[dtype ?? 'fp32'];
  if (suffix === undefined) throw new RangeError(`${entry.id} has no ${dtype} variant for transformers.js`);
  return [...TJS_CONFIGS, ...(entry.onnxParts ?? IMAGE_TEXT_PARTS).map((p) => ({ name: `onnx/${p}${suffix}.onnx` }))];
}
