/**
 * The Evaluate view's model choice: the models and engines the worker's zoo
 * says run here (the Chat picker's list, read through the same listModels),
 * as "id|engine" options, so native and onnx can be evaluated from this tab.
 */
import type { EngineKind, ModelListing } from '../worker/api';
import { h } from './dom';

const ENGINES: readonly EngineKind[] = ['native', 'onnx'];
const isEngine = (x: string): x is EngineKind => (ENGINES as readonly string[]).includes(x);

export function modelChoices(listings: readonly ModelListing[]): HTMLOptionElement[] {
  return listings.flatMap((l) =>
    l.engines
      .filter((c) => c.runsHere && isEngine(c.engine))
      .map((c) => {
        const cached = l.source === 'bundled' || l.cachedFor.some((f) => f.engine === c.engine) ? '' : ' (downloads)';
        return h('option', { value: `${l.id}|${c.engine}` }, `${l.id} · ${c.engine}${cached}`);
      }),
  );
}

/** The option's model id and engine; ids may hold '/', never '|'. */
export function parseChoice(value: string): { id: string; engine: EngineKind } | null {
  const cut = value.lastIndexOf('|');
  const engine = value.slice(cut + 1);
  return cut > 0 && isEngine(engine) ? { id: value.slice(0, cut), engine } : null;
}
