/**
 * An adapter (PEFT tensors on the host) put to use on a native model: either
 * attached unmerged (A and B uploaded, the decoder adds the rank-r products
 * in every step) or merged into f32 weights, W' = W + (alpha / rank) B A.
 * A trained projector (modules_to_save) replaces the model's projector.
 * DecoderAdapter does all of it for a model whose adapters touch only the
 * decoder (Idefics3).
 */
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Tensor } from '../../webgpu/tensor';
import { loraTensorName, moduleTensorName, targetModulePath } from '../lora/names';
import type { LoraAdapterData, LoraTarget, NamedTensor } from '../lora/types';
import { TARGET_FIELD, type LlamaDecoder } from './llama-decoder';
import type { DecoderLora, LoraPair } from './lora-linear';
import type { Linear } from './weights';

function find(adapter: LoraAdapterData, byName: Map<string, NamedTensor>, name: string, shape: readonly number[]): Float32Array {
  const t = byName.get(name);
  if (!t) throw new Error(`the adapter has no tensor ${name}`);
  if (t.data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new Error(`adapter tensor ${name} is [${t.shape.join(',')}] but this model needs [${shape.join(',')}] (rank ${adapter.config.rank})`);
  }
  return t.data;
}

/** Every wrapped layer's A [rank, in] and B [out, rank], checked against the decoder's shapes. */
export function adapterMatrices(decoder: LlamaDecoder, adapter: LoraAdapterData): { layer: number; target: LoraTarget; a: Float32Array; b: Float32Array; lin: Linear }[] {
  const r = adapter.config.rank;
  const byName = new Map(adapter.tensors.map((t) => [t.name, t]));
  return decoder.layers.flatMap((l, i) =>
    adapter.config.targetModules.map((target) => {
      const lin = l[TARGET_FIELD[target]];
      const a = find(adapter, byName, loraTensorName(decoder.modelPath, i, target, 'A'), [r, lin.k]);
      const b = find(adapter, byName, loraTensorName(decoder.modelPath, i, target, 'B'), [lin.n, r]);
      return { layer: i, target, a, b, lin };
    }),
  );
}

/** Uploads A and B of every wrapped layer; `owned` lists the tensors to release on detach. */
export function uploadLora(rt: GpuRuntime, decoder: LlamaDecoder, adapter: LoraAdapterData): { lora: DecoderLora; owned: Tensor[] } {
  const owned: Tensor[] = [];
  const layers: Partial<Record<LoraTarget, LoraPair>>[] = decoder.layers.map(() => ({}));
  for (const m of adapterMatrices(decoder, adapter)) {
    const a = rt.upload(m.a, [adapter.config.rank, m.lin.k], `lora.${m.layer}.${m.target}.A`);
    const b = rt.upload(m.b, [m.lin.n, adapter.config.rank], `lora.${m.layer}.${m.target}.B`);
    owned.push(a, b);
    (layers[m.layer] as Partial<Record<LoraTarget, LoraPair>>)[m.target] = { a, b };
  }
  return { lora: { scale: adapter.config.alpha / adapter.config.rank, layers }, owned };
}

/** The adapter's projector (PEFT modules_to_save) uploaded, or null when it does not train one. */
export function uploadProjector(rt: GpuRuntime, adapter: LoraAdapterData, base: readonly { path: string; lin: Linear }[], owned: Tensor[]): Linear[] | null {
  if (!adapter.config.trainProjector) return null;
  const byName = new Map(adapter.tensors.map((t) => [t.name, t]));
  return base.map(({ path, lin }) => {
    const w = rt.upload(find(adapter, byName, moduleTensorName(path, 'weight'), [lin.n, lin.k]), [lin.n, lin.k], `${path}.adapter`);
    owned.push(w);
    let bias: Tensor | null = null;
    if (lin.bias) {
      bias = rt.upload(find(adapter, byName, moduleTensorName(path, 'bias'), [lin.n]), [lin.n], `${path}.adapter.bias`);
      owned.push(bias);
    }
    return { n: lin.n, k: lin.k, bias, weight: { kind: 'f32', w } };
  });
}

/** W + scale * B A in f32 (each sum of `rank` products taken in f64). */
export function mergedWeight(w: Float32Array, a: Float32Array, b: Float32Array, n: number, k: number, rank: number, scale: number): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let r = 0; r < rank; r++) s += (b[i * rank + r] as number) * (a[r * k + j] as number);
      out[i * k + j] = (w[i * k + j] as number) + scale * s;
    }
  }
  return out;
}

/**
 * Folds the adapter into the decoder's weights: each wrapped layer gets an
 * f32 weight W + scale * B A (a quantized layer becomes f32). `baseWeight`
 * gives the current W on the host; `keep` uploads a tensor the model owns.
 */
export async function mergeLora(
  decoder: LlamaDecoder,
  adapter: LoraAdapterData,
  baseWeight: (lin: Linear, name: string) => Promise<Float32Array>,
  keep: (data: Float32Array, shape: number[], label: string) => Tensor,
): Promise<void> {
  const scale = adapter.config.alpha / adapter.config.rank;
  for (const m of adapterMatrices(decoder, adapter)) {
    const field = TARGET_FIELD[m.target];
    const path = `${decoder.modelPath}.${targetModulePath(m.layer, m.target)}`;
    const w = await baseWeight(m.lin, `${path}.weight`);
    const merged = mergedWeight(w, m.a, m.b, m.lin.n, m.lin.k, adapter.config.rank, scale);
    const layer = decoder.layers[m.layer];
    if (layer) layer[field] = { n: m.lin.n, k: m.lin.k, bias: m.lin.bias, weight: { kind: 'f32', w: keep(merged, [m.lin.n, m.lin.k], `${path}.merged`) } };
  }
}

/** A native model that takes LoRA adapters at inference (NativeLlava, NativeIdefics3). */
export interface AdapterHost {
  setAdapter(adapter: LoraAdapterData | null): void;
  mergeAdapter(adapter: LoraAdapterData): Promise<void>;
}

function decoderOnly(adapter: LoraAdapterData): void {
  if (adapter.config.trainProjector) throw new Error('this adapter trains a LLaVA projector (modules_to_save), which this model does not have; only decoder adapters apply here');
}

/**
 * A decoder-only adapter on a native model (Idefics3: its connector is not an
 * LLaVA projector, so an adapter that trains one is refused): attached
 * unmerged, detached, or merged into f32 weights. `hostWeight` gives a
 * checkpoint weight on the host, for merging into a layer not kept as f32.
 */
export class DecoderAdapter {
  private attached: Tensor[] = [];
  private readonly merged: Tensor[] = [];

  constructor(
    private readonly rt: GpuRuntime,
    private readonly decoder: LlamaDecoder,
    private readonly hostWeight: (name: string) => Float32Array,
  ) {}

  get isAttached(): boolean {
    return this.decoder.lora !== null;
  }

  /** Attach (uploading A and B; throws naming a tensor that does not fit) or detach with null. */
  set(adapter: LoraAdapterData | null): void {
    if (adapter) decoderOnly(adapter);
    const next = adapter ? uploadLora(this.rt, this.decoder, adapter) : null;
    for (const t of this.attached) this.rt.release(t);
    this.attached = next?.owned ?? [];
    this.decoder.lora = next?.lora ?? null;
  }

  /** Folds the adapter into the wrapped layers (they become f32); the attached one, if any, is detached. */
  async merge(adapter: LoraAdapterData): Promise<void> {
    decoderOnly(adapter);
    this.set(null);
    const keep = (data: Float32Array, shape: number[], label: string): Tensor => {
      const t = this.rt.upload(data, shape, label);
      this.merged.push(t);
      return t;
    };
    await mergeLora(this.decoder, adapter, (lin, name) => (lin.weight.kind === 'f32' ? this.rt.readF32(lin.weight.w) : Promise.resolve(this.hostWeight(name))), keep);
  }

  /** Gives back the attached adapter's and the merged weights' buffers. */
  release(): void {
    this.set(null);
    for (const t of this.merged) this.rt.release(t);
    this.merged.length = 0;
  }
}
