/**
 * The trained tensors of a LoRA run on the GPU: each with its value, its
 * gradient and AdamW's two moments, named as PEFT saves them.
 */
import { Rng } from '../../data/random';
import type { GpuRuntime } from '../../webgpu/runtime';
import { numel, type Tensor } from '../../webgpu/tensor';
import { TARGET_FIELD } from '../native/llama-decoder';
import type { LoraPair } from '../native/lora-linear';
import type { LoraHost } from './host';
import { loraTensorName, moduleTensorName } from './names';
import type { LoraConfig, LoraTarget } from './types';

export interface Param {
  name: string;
  shape: readonly number[];
  value: Tensor;
  grad: Tensor;
  m: Tensor;
  v: Tensor;
}

/** One wrapped decoder linear: its A [rank, in] and B [out, rank]. */
export interface LoraModule {
  layer: number;
  target: LoraTarget;
  a: Param;
  b: Param;
}

export interface ProjectorParams {
  weight: Param;
  bias: Param | null;
}

export interface TrainedParams {
  modules: LoraModule[];
  /** By decoder layer, the wrapped targets (for the forward). */
  byLayer: Map<LoraTarget, LoraModule>[];
  /** One per projector linear when the projector is trained, else empty. */
  projector: ProjectorParams[];
  all: Param[];
}

/** PEFT's default init of A (nn.init.kaiming_uniform_ with a = sqrt(5)): uniform in +-1/sqrt(in_features). */
export function kaimingUniformA(rng: Rng, rank: number, inFeatures: number): Float32Array {
  const bound = 1 / Math.sqrt(inFeatures);
  const out = new Float32Array(rank * inFeatures);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

function makeParam(rt: GpuRuntime, name: string, shape: readonly number[], value: Float32Array): Param {
  const zeros = new Float32Array(numel(shape));
  return {
    name,
    shape,
    value: rt.upload(value, shape, name),
    grad: rt.upload(zeros, shape, `${name}.grad`),
    m: rt.upload(zeros, shape, `${name}.exp_avg`),
    v: rt.upload(zeros, shape, `${name}.exp_avg_sq`),
  };
}

/**
 * Every trained tensor, initialised as PEFT does (A kaiming-uniform from a
 * seeded generator, B zeros; the projector from the model's weights), or
 * from `initial` where it names the tensor.
 */
export async function createParams(host: LoraHost, config: LoraConfig, seed: number, initial?: ReadonlyMap<string, Float32Array>): Promise<TrainedParams> {
  const rt = host.rt;
  const rng = new Rng(seed);
  const modules: LoraModule[] = [];
  const byLayer: Map<LoraTarget, LoraModule>[] = [];
  const pick = (name: string, fallback: () => Float32Array): Float32Array => initial?.get(name) ?? fallback();
  host.decoder.layers.forEach((l, i) => {
    const mine = new Map<LoraTarget, LoraModule>();
    for (const target of config.targetModules) {
      const lin = l[TARGET_FIELD[target]];
      const nameA = loraTensorName(host.decoder.modelPath, i, target, 'A');
      const nameB = loraTensorName(host.decoder.modelPath, i, target, 'B');
      const a = makeParam(rt, nameA, [config.rank, lin.k], pick(nameA, () => kaimingUniformA(rng, config.rank, lin.k)));
      const b = makeParam(rt, nameB, [lin.n, config.rank], pick(nameB, () => new Float32Array(lin.n * config.rank)));
      const mod = { layer: i, target, a, b };
      modules.push(mod);
      mine.set(target, mod);
    }
    byLayer.push(mine);
  });
  const projector: ProjectorParams[] = [];
  if (config.trainProjector) {
    for (const p of host.projector) {
      if (p.lin.weight.kind !== 'f32') throw new Error(`training the projector needs f32 weights, but ${p.path} is quantized`);
      const w = p.lin.weight.w;
      const weightName = moduleTensorName(p.path, 'weight');
      const weight = makeParam(rt, weightName, [p.lin.n, p.lin.k], initial?.get(weightName) ?? (await rt.readF32(w)));
      let bias: Param | null = null;
      if (p.lin.bias) {
        const biasName = moduleTensorName(p.path, 'bias');
        bias = makeParam(rt, biasName, [p.lin.n], initial?.get(biasName) ?? (await rt.readF32(p.lin.bias)));
      }
      projector.push({ weight, bias });
    }
  }
  const all = [...modules.flatMap((m) => [m.a, m.b]), ...projector.flatMap((p) => (p.bias ? [p.weight, p.bias] : [p.weight]))];
  return { modules, byLayer, projector, all };
}

export function loraPair(mod: LoraModule): LoraPair {
  return { a: mod.a.value, b: mod.b.value };
}

export function releaseParams(rt: GpuRuntime, params: TrainedParams): void {
  for (const p of params.all) for (const t of [p.value, p.grad, p.m, p.v]) rt.release(t);
}
