/**
 * LoRA on a native linear layer, unmerged: y = W x + scale * B (A x), with A
 * [rank, in] and B [out, rank] as PEFT stores them. Inference and training
 * run the same forward; training also keeps the LoRA input and A x for the
 * backward.
 */
import type { Tensor } from '../../webgpu/tensor';
import type { LoraTarget } from '../lora/types';
import { linear, type Scope } from './ops';
import { elementwise, scale as scaleSpec } from '../../webgpu/kernels/elementwise';
import { numel } from '../../webgpu/tensor';
import type { MatmulEpilogue } from '../../webgpu/kernels/matmul-params';
import type { Linear } from './weights';

/** One wrapped layer's A [rank, in] and B [out, rank] on the GPU. */
export interface LoraPair {
  a: Tensor;
  b: Tensor;
}

/** The adapter on every decoder layer: layers[i][target], and alpha / rank. */
export interface DecoderLora {
  scale: number;
  layers: Partial<Record<LoraTarget, LoraPair>>[];
}

/** What the backward of one wrapped layer needs: its LoRA input (after dropout) and scale * A u. */
export interface LoraRecord {
  u: Tensor;
  zs: Tensor;
  mask: Tensor | null;
}

export function asLinear(w: Tensor): Linear {
  const [n, k] = w.shape as [number, number];
  return { n, k, bias: null, weight: { kind: 'f32', w } };
}

/**
 * y = linear(x) (with its epilogue) + scale * B (A u), u = x or x * mask
 * (inverted dropout: the mask holds 0 or 1 / (1 - p)).
 */
export function loraLinear(
  s: Scope,
  x: Tensor,
  lin: Linear,
  pair: LoraPair | undefined,
  scale: number,
  label: string,
  opts: { epilogue?: MatmulEpilogue; residual?: Tensor; mask?: Tensor | null } = {},
): { y: Tensor; record: LoraRecord | null } {
  const y = linear(s, x, lin, label, opts);
  if (!pair) return { y, record: null };
  const mask = opts.mask ?? null;
  let u = x;
  if (mask) {
    u = s.empty(x.shape, `${label}.lora-in`);
    s.rt.run(elementwise, [x, mask], [u], { op: 'mul', n: numel(x.shape) });
  }
  const z = linear(s, u, asLinear(pair.a), `${label}.lora-a`);
  const zs = s.empty(z.shape, `${label}.lora-scaled`);
  s.rt.run(scaleSpec, [z], [zs], { n: numel(z.shape), s: scale });
  const out = linear(s, zs, asLinear(pair.b), `${label}.lora`, { epilogue: 'residual', residual: y });
  return { y: out, record: { u, zs, mask } };
}
