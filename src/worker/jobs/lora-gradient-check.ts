/**
 * golden.json's lora batch through a loaded native LLaVA: the loss and every
 * LoRA gradient norm beside PyTorch's (tools/train golden.py lora_golden).
 * The two sequences run one by one with scale = 1 / (supervised tokens of
 * the batch), which is HF's mean loss over the batch; padding on the right
 * is cut off, since a causal model's real tokens never see it.
 */
import { decodePngRaster } from '../../data/png';
import { readJsonFile, urlModelFiles } from '../../models/model-files';
import { NativeEngine } from '../../models/native/native-engine';
import type { Vlm } from '../../models/vlm';
import type { LoadedModel } from '../api';
import { VlmError } from '../errors';
import type { LoraGradientCheck } from '../finetune-api';
import { goldenAdapter } from '../../models/lora/golden-init';
import { PEFT_PREFIX } from '../../models/lora/names';
import { supervisedRows } from '../../models/lora/sequence';
import { createLoraTrainable } from '../../models/lora/trainable';
import type { LoraConfig, LoraTarget, TrainExample } from '../../models/lora/types';
import { TARGET_FIELD } from '../../models/native/llama-decoder';
import type { NativeLlava } from '../../models/native/llava';

/** golden.json's `lora` block. */
export interface GoldenLora {
  rank: number;
  alpha: number;
  targets: LoraTarget[];
  dropout: number;
  batch: { images: string[]; input_ids: number[][]; attention_mask: number[][]; labels: number[][] };
  loss: number;
  /** By HF parameter name (without PEFT's base_model.model. prefix). */
  grad_norms: Record<string, number>;
}

/** The batch's sequences without their padding; every one shows the golden image (`pixels`, preprocessed). */
export function goldenExamples(lora: GoldenLora, pixels: Float32Array): TrainExample[] {
  return lora.batch.input_ids.map((ids, b) => {
    const len = (lora.batch.attention_mask[b] ?? []).reduce((a, v) => a + v, 0);
    return { id: `golden-${b}`, ids: Int32Array.from(ids.slice(0, len)), labels: Int32Array.from((lora.batch.labels[b] ?? []).slice(0, len)), pixels: [pixels] };
  });
}

export function relativeDiff(got: number, expected: number): number {
  return Math.abs(got - expected) / Math.max(Math.abs(expected), 1e-12);
}

export async function loraGradientCheck(model: NativeLlava, golden: { lora: GoldenLora; pixels: Float32Array }): Promise<LoraGradientCheck> {
  const { lora } = golden;
  const config: LoraConfig = { rank: lora.rank, alpha: lora.alpha, dropout: lora.dropout, targetModules: lora.targets, trainProjector: false, baseModel: 'golden' };
  const dec = model.decoder;
  const init = goldenAdapter(config, dec.layers.length, dec.modelPath, (i, t) => {
    const lin = (dec.layers[i] ?? dec.layers[0])?.[TARGET_FIELD[t]];
    if (!lin) throw new Error('the model has no decoder layers');
    return [lin.n, lin.k];
  });
  const trainable = await createLoraTrainable(model, config, init);
  try {
    const examples = goldenExamples(lora, golden.pixels);
    const total = examples.reduce((a, e) => a + supervisedRows(e.labels).rows.length, 0);
    let lossSum = 0;
    for (const e of examples) lossSum += (await trainable.accumulate(e, 1 / total)).lossSum;
    const loss = lossSum / total;
    const got = await trainable.gradNorms();
    const norms = Object.entries(lora.grad_norms).map(([name, expected]) => ({ name, got: got[`${PEFT_PREFIX}${name}`] ?? Number.NaN, expected }));
    const maxRelative = Math.max(relativeDiff(loss, lora.loss), ...norms.map((n) => relativeDiff(n.got, n.expected)));
    return { loss, expectedLoss: lora.loss, maxRelative: Number.isNaN(maxRelative) ? Infinity : maxRelative, norms };
  } finally {
    trainable.release();
  }
}

/**
 * The check on the loaded model (FinetuneApi.loraGradientCheck): its
 * golden.json and golden image from its folder under modelsBase, on the native engine
 * with f32 weights.
 */
export async function loadedLoraGradientCheck(loaded: LoadedModel | null, vlm: Vlm | null, modelsBase: string): Promise<LoraGradientCheck> {
  if (!loaded) throw new VlmError('no-model', 'No model is loaded: load the bundled model on the native engine to check LoRA gradients.');
  if (!vlm || !(vlm.engine instanceof NativeEngine)) throw new VlmError('bad-input', `The LoRA gradient check runs on the native engine, but ${loaded.id} is loaded on the ${loaded.engine} engine.`);
  if (loaded.dtype !== 'f32') throw new VlmError('bad-input', `The LoRA gradient check needs f32 weights, but ${loaded.id} is loaded as ${loaded.dtype}.`);
  const files = urlModelFiles(loaded.id, `${modelsBase}${loaded.id}/`);
  const golden = await readJsonFile<{ image: string; lora?: GoldenLora }>(files, 'golden.json');
  if (!golden.lora) throw new VlmError('bad-input', `${loaded.id}'s golden.json has no lora block to check against.`);
  const raster = decodePngRaster(new Uint8Array(await files.bytes(golden.image)));
  const pixels = vlm.preprocess({ ...raster, channels: 3 }).pixels;
  return loraGradientCheck(vlm.engine.llava, { lora: golden.lora, pixels });
}
