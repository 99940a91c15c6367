/**
 * The Evaluate view's model choice: the models and engines the worker's zoo
 * says run here (the Chat picker's list, read through the same listModels),
 * as "id|engine" options, plus "id|native|int8" and "|int4" for the native
 * engine's quantized weights, and "id|transformers|<dtype>" for each file
 * variant a hub chat model offers on the transformers engine, so engines and
 * weights can be compared from this tab. Models that answer only task prompts
 * (Florence-2) are left out: no benchmark here asks those.
 */
import type { EngineKind, ModelDType, ModelListing, TjsDtype, WeightDType, ZooEngine } from '../worker/api';
import { h } from './dom';

const ENGINES: readonly EngineKind[] = ['native', 'onnx', 'transformers'];
const isEngine = (x: string): x is EngineKind => (ENGINES as readonly string[]).includes(x);
/** Weights the native engine quantizes to at load; f32 is the option without a suffix. */
const QUANTIZED: readonly WeightDType[] = ['int8', 'int4'];
const isQuantized = (x: string): x is WeightDType => (QUANTIZED as readonly string[]).includes(x);
/** transformers.js' ONNX file variants; the option always names one. */
const TJS_DTYPES: readonly TjsDtype[] = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];
const isTjsDtype = (x: string): x is TjsDtype => (TJS_DTYPES as readonly string[]).includes(x);
/** The zoo names the transformers engine by its library. */
const engineOf = (zoo: ZooEngine): EngineKind | null => (zoo === 'transformers.js' ? 'transformers' : isEngine(zoo) ? zoo : null);

export function modelChoices(listings: readonly ModelListing[]): HTMLOptionElement[] {
  return listings.flatMap((l) =>
    l.engines
      .filter((c) => c.runsHere && engineOf(c.engine) !== null)
      .flatMap((c) => {
        const cachedFor = (dtype?: string) => l.source === 'bundled' || l.cachedFor.some((f) => f.engine === c.engine && (dtype === undefined || f.dtype === dtype));
        if (c.engine === 'transformers.js') {
          if (!l.capabilities.includes('chat')) return [];
          return c.dtypes.map(({ dtype }) => h('option', { value: `${l.id}|transformers|${dtype}` }, `${l.id} · transformers.js · ${dtype}${cachedFor(dtype) ? '' : ' (downloads)'}`));
        }
        const cached = cachedFor() ? '' : ' (downloads)';
        const plain = h('option', { value: `${l.id}|${c.engine}` }, `${l.id} · ${c.engine}${cached}`);
        if (c.engine !== 'native') return [plain];
        return [plain, ...QUANTIZED.map((d) => h('option', { value: `${l.id}|native|${d}` }, `${l.id} · native · ${d}${cached}`))];
      }),
  );
}

/** The option's model id, engine and weights; ids may hold '/', never '|'. */
export function parseChoice(value: string): { id: string; engine: EngineKind; dtype: ModelDType } | null {
  const parts = value.split('|');
  const dtype = parts.length === 3 ? parts.pop() ?? '' : 'f32';
  const engine = parts.pop() ?? '';
  const id = parts.join('|');
  if (!id || !isEngine(engine) || parts.length !== 1) return null;
  if (engine === 'transformers') return isTjsDtype(dtype) ? { id, engine, dtype } : null;
  if (dtype !== 'f32' && !(engine === 'native' && isQuantized(dtype))) return null;
  return { id, engine, dtype: dtype as WeightDType };
}
