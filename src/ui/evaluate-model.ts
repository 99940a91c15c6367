/**
 * The Evaluate view's model choice: the models and engines the worker's zoo
 * says run here (the Chat picker's list, read through the same listModels),
 * as "id|engine" options, plus "id|native|int8" and "|int4" for the native
 * engine's quantized weights, so engines and weights can be compared from
 * this tab.
 */
import type { EngineKind, ModelListing, WeightDType } from '../worker/api';
import { h } from './dom';

const ENGINES: readonly EngineKind[] = ['native', 'onnx'];
const isEngine = (x: string): x is EngineKind => (ENGINES as readonly string[]).includes(x);
/** Weights the native engine quantizes to at load; f32 is the option without a suffix. */
const QUANTIZED: readonly WeightDType[] = ['int8', 'int4'];
const isQuantized = (x: string): x is WeightDType => (QUANTIZED as readonly string[]).includes(x);

export function modelChoices(listings: readonly ModelListing[]): HTMLOptionElement[] {
  return listings.flatMap((l) =>
    l.engines
      .filter((c) => c.runsHere && isEngine(c.engine))
      .flatMap((c) => {
        const cached = l.source === 'bundled' || l.cachedFor.some((f) => f.engine === c.engine) ? '' : ' (downloads)';
        const plain = h('option', { value: `${l.id}|${c.engine}` }, `${l.id} · ${c.engine}${cached}`);
        if (c.engine !== 'native') return [plain];
        return [plain, ...QUANTIZED.map((d) => h('option', { value: `${l.id}|native|${d}` }, `${l.id} · native · ${d}${cached}`))];
      }),
  );
}

/** The option's model id, engine and weights; ids may hold '/', never '|'. */
export function parseChoice(value: string): { id: string; engine: EngineKind; dtype: WeightDType } | null {
  const parts = value.split('|');
  const dtype = parts.length === 3 ? parts.pop() ?? '' : 'f32';
  const engine = parts.pop() ?? '';
  const id = parts.join('|');
  if (!id || !isEngine(engine) || parts.length !== 1) return null;
  if (dtype !== 'f32' && !(engine === 'native' && isQuantized(dtype))) return null;
  return { id, engine, dtype: dtype as WeightDType };
}
