/**
 * The hub VLM families this engine runs on @huggingface/transformers, chosen
 * by config.json's model_type, and the ONNX session files each family loads
 * for a dtype (onnx/<part><suffix>.onnx, as transformers.js names them).
 */
import { TJS_FILE_SUFFIX, type ZooDtype } from '../zoo';

/** How a family's prompt is built and whether its cache can continue across turns. */
export type FamilyKind = 'llava' | 'idefics3' | 'qwen2_vl' | 'florence2';

export interface Family {
  kind: FamilyKind;
  /** The transformers.js model class (an export of @huggingface/transformers). */
  modelClass: 'LlavaForConditionalGeneration' | 'Idefics3ForConditionalGeneration' | 'SmolVLMForConditionalGeneration' | 'Qwen2VLForConditionalGeneration' | 'Qwen2_5_VLForConditionalGeneration' | 'Florence2ForConditionalGeneration';
  /** ONNX sessions under onnx/, without the dtype suffix. */
  parts: readonly string[];
}

const DECODER_PARTS = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const;

const FAMILIES: Record<string, Family> = {
  llava: { kind: 'llava', modelClass: 'LlavaForConditionalGeneration', parts: DECODER_PARTS },
  idefics3: { kind: 'idefics3', modelClass: 'Idefics3ForConditionalGeneration', parts: DECODER_PARTS },
  smolvlm: { kind: 'idefics3', modelClass: 'SmolVLMForConditionalGeneration', parts: DECODER_PARTS },
  qwen2_vl: { kind: 'qwen2_vl', modelClass: 'Qwen2VLForConditionalGeneration', parts: DECODER_PARTS },
  qwen2_5_vl: { kind: 'qwen2_vl', modelClass: 'Qwen2_5_VLForConditionalGeneration', parts: DECODER_PARTS },
  florence2: { kind: 'florence2', modelClass: 'Florence2ForConditionalGeneration', parts: ['vision_encoder', 'embed_tokens', 'encoder_model', 'decoder_model_merged'] },
};

export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.keys(FAMILIES);

/** config.json names a family this engine does not run. */
export class UnsupportedModelError extends Error {
  override readonly name = 'UnsupportedModelError';
  constructor(
    readonly modelType: string,
    readonly supported: readonly string[] = SUPPORTED_MODEL_TYPES,
  ) {
    super(`model_type "${modelType}" is not a family this engine runs; it runs ${supported.join(', ')}`);
  }
}

export function familyOf(modelType: unknown): Family {
  const name = typeof modelType === 'string' ? modelType : String(modelType ?? '(none)');
  const family = Object.hasOwn(FAMILIES, name) ? FAMILIES[name] : undefined;
  if (!family) throw new UnsupportedModelError(name);
  return family;
}

/** The dtypes this engine loads, as transformers.js names them (and the zoo lists them). */
export type TjsDtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';
export const TJS_DTYPES: readonly TjsDtype[] = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];

function suffixOf(dtype: TjsDtype): string {
  const suffix = TJS_FILE_SUFFIX[dtype as ZooDtype];
  if (suffix === undefined) throw new RangeError(`no file suffix for dtype ${dtype}`);
  return suffix;
}

/** The session files a family loads for `dtype`. */
export function sessionFiles(family: Family, dtype: TjsDtype): string[] {
  return family.parts.map((p) => `onnx/${p}${suffixOf(dtype)}.onnx`);
}

/** The dtypes whose session files are all in `files`. */
export function dtypesPresent(family: Family, files: ReadonlySet<string>): TjsDtype[] {
  return TJS_DTYPES.filter((d) => sessionFiles(family, d).every((f) => files.has(f)));
}

/** The repo lacks a session file for the chosen dtype. */
export class MissingDtypeFileError extends Error {
  override readonly name = 'MissingDtypeFileError';
  constructor(
    readonly file: string,
    readonly dtype: TjsDtype,
    readonly present: readonly TjsDtype[],
  ) {
    super(`${file} is missing, so dtype ${dtype} cannot load; ${present.length > 0 ? `this repo has the files for ${present.join(', ')}` : 'this repo has no complete set of ONNX files for any dtype'}`);
  }
}

/** Throws MissingDtypeFileError naming the first session file of `dtype` not in `files`. */
export function checkDtypeFiles(family: Family, dtype: TjsDtype, files: Iterable<string>): void {
  const have = new Set(files);
  const missing = sessionFiles(family, dtype).find((f) => !have.has(f));
  if (missing) throw new MissingDtypeFileError(missing, dtype, dtypesPresent(family, have));
}
