import { describe, expect, it } from 'vitest';
import type { LoraAdapterData } from '../../src/models/lora/types';
import type { Vlm } from '../../src/models/vlm';
import type { LoadedModel } from '../../src/worker/api';
import { VlmError } from '../../src/worker/errors';
import { AdapterSession } from '../../src/worker/jobs/finetune/adapter-session';
import { nativeFinetuneModel } from '../../src/worker/jobs/finetune/native-model';
import { FakeModel } from './finetune-fakes';

const adapter: LoraAdapterData = {
  config: { rank: 1, alpha: 2, dropout: 0, targetModules: ['q_proj'], trainProjector: false, baseModel: 'fake' },
  tensors: [{ name: 'base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_A.weight', shape: [1, 3], data: Float32Array.of(1, 2, 3) }],
};

describe('fine-tune adapter session', () => {
  it('applies, removes and merges the adapter in the model, and drops it when another model is loaded', async () => {
    const model = new FakeModel();
    let load: object = {};
    const session = new AdapterSession(() => load, () => model);
    expect(session.state()).toBeNull();
    expect(() => session.apply(true)).toThrow(/no adapter/);
    session.set(adapter, 'trained', 'squares, step 8');
    expect(session.state()).toMatchObject({ name: 'squares, step 8', applied: false, merged: false, parameters: 3 });
    expect(session.apply(true).applied).toBe(true);
    expect(model.attached).toBe(adapter);
    expect(session.apply(false).applied).toBe(false);
    expect(model.attached).toBeNull();
    session.apply(true);
    const merged = await session.merge();
    expect(merged).toMatchObject({ applied: false, merged: true });
    expect(model.attached).toBeNull();
    expect(model.merged).toEqual([adapter]);
    expect(() => session.apply(true)).toThrow(/merged/);
    load = {};
    expect(session.state()).toBeNull();
  });

  it('a model on another engine cannot train: a bad-input error says fine-tuning needs the native engine', () => {
    const loaded: LoadedModel = { id: 'webvlm-tiny', engine: 'onnx', dtype: 'f32', device: 'webgpu', contextLength: 512, imageSize: 64, loadMs: 1 };
    const err = (() => {
      try {
        nativeFinetuneModel(loaded, {} as Vlm);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('bad-input');
    expect((err as VlmError).message).toContain('needs the native engine');
    expect(() => nativeFinetuneModel(null, null)).toThrow(expect.objectContaining({ code: 'no-model' }));
  });
});
