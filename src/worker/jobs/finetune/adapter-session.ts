/**
 * The adapter held for the loaded model: the one a run left (finished,
 * paused, cancelled or diverged) or one imported as PEFT files. It is applied
 * at run time or not (Chat's toggle), merged into the weights for good, and
 * exported as PEFT files. It belongs to the model it was made for: once
 * another model is loaded it is gone.
 */
import { fromPeftFiles, PeftError, toPeftFiles } from '../../../models/lora/peft';
import type { LoraAdapterData, PeftFiles } from '../../../models/lora/types';
import { VlmError } from '../../errors';
import type { AdapterState } from '../../finetune-api';
import type { FinetuneModel } from './finetune-model';

interface Held {
  adapter: LoraAdapterData;
  state: AdapterState;
  /** The load it belongs to (the loaded model's info, a fresh object per load). */
  owner: unknown;
}

export function parameterCount(adapter: LoraAdapterData): number {
  return adapter.tensors.reduce((n, t) => n + t.data.length, 0);
}

export class AdapterSession {
  private held: Held | null = null;

  /**
   * `loaded`: the current load's identity (null when none); `model`: the
   * loaded model as the fine-tune job sees it (throws when it cannot train).
   */
  constructor(
    private readonly loaded: () => unknown,
    private readonly model: () => FinetuneModel,
  ) {}

  private current(): Held | null {
    if (this.held && this.held.owner !== this.loaded()) this.held = null;
    return this.held;
  }

  private need(): Held {
    const held = this.current();
    if (!held) throw new VlmError('bad-input', 'There is no adapter for the loaded model: train one in Fine-tune or import PEFT files.');
    return held;
  }

  state(): AdapterState | null {
    const held = this.current();
    return held ? { ...held.state } : null;
  }

  /** The adapter's weights (for tests and the side-by-side answer). */
  adapter(): LoraAdapterData | null {
    return this.current()?.adapter ?? null;
  }

  /** Makes `adapter` the loaded model's adapter, not applied; the one before is removed from the model first. */
  set(adapter: LoraAdapterData, source: AdapterState['source'], name: string): AdapterState {
    this.detach();
    this.held = {
      adapter,
      owner: this.loaded(),
      state: { name, source, config: adapter.config, applied: false, merged: false, parameters: parameterCount(adapter) },
    };
    return { ...this.held.state };
  }

  /** Removes a run-time adapter from the model (before training, or before another adapter replaces it). */
  detach(): void {
    const held = this.current();
    if (!held?.state.applied) return;
    this.model().setAdapter(null);
    held.state.applied = false;
  }

  apply(applied: boolean): AdapterState {
    const held = this.need();
    if (held.state.merged) throw new VlmError('bad-input', 'The adapter is merged into the weights; load the model again to answer without it.');
    if (held.state.applied !== applied) {
      this.model().setAdapter(applied ? held.adapter : null);
      held.state.applied = applied;
    }
    return { ...held.state };
  }

  async merge(): Promise<AdapterState> {
    const held = this.need();
    if (held.state.merged) return { ...held.state };
    const model = this.model();
    if (held.state.applied) model.setAdapter(null);
    held.state.applied = false;
    await model.mergeAdapter(held.adapter);
    held.state.applied = false;
    held.state.merged = true;
    return { ...held.state };
  }

  export(): PeftFiles {
    return toPeftFiles(this.need().adapter);
  }

  import(files: PeftFiles): AdapterState {
    const model = this.model();
    let adapter: LoraAdapterData;
    try {
      adapter = fromPeftFiles(files, model.peftBase);
    } catch (err) {
      if (err instanceof PeftError) throw new VlmError('bad-input', `The adapter cannot be used with ${model.id}: ${err.message}.`);
      throw err;
    }
    return this.set(adapter, 'imported', `PEFT adapter for ${adapter.config.baseModel}`);
  }
}
