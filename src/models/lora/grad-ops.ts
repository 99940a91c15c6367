/**
 * Backward building blocks for training on the native engine, in the style
 * of native/ops.ts: each records kernels into the current step and returns a
 * fresh tensor from the scope, or adds into a gradient buffer the trainer owns.
 */
import { isCpuEmulated } from '../../webgpu/device';
import { activationBackward, swigluBackward, type ActivationOp } from '../../webgpu/kernels/activations';
import { elementwise, scale as scaleSpec } from '../../webgpu/kernels/elementwise';
import { matmulBiasGrad } from '../../webgpu/kernels/matmul-bias-grad';
import { matmulGradInput, matmulGradWeight } from '../../webgpu/kernels/matmul-grad';
import { rmsNormBackward } from '../../webgpu/kernels/rms-norm';
import { transpose } from '../../webgpu/kernels/transpose';
import { numel, type Tensor } from '../../webgpu/tensor';
import { asLinear } from '../native/lora-linear';
import { linear, type Scope } from '../native/ops';
import type { Linear } from '../native/weights';

function gradVariant(s: Scope): 'blocked' | 'tiled' {
  return isCpuEmulated(s.rt.gpu.report) ? 'blocked' : 'tiled';
}

/** The f32 weight of a linear layer; the backward cannot read quantized weights. */
export function f32Weight(lin: Linear, what: string): Tensor {
  if (lin.weight.kind !== 'f32') {
    const held = lin.weight.kind === 'f16' ? 'kept as f16' : `quantized to int${lin.weight.bits}`;
    throw new Error(`training needs f32 weights, but ${what} is ${held}: load the model with f32 weights`);
  }
  return lin.weight.w;
}

/** dX [rows, k] = dY [rows, n] W for y = x W^T with W [n, k]. */
export function gradInput(s: Scope, dy: Tensor, w: Tensor, label: string): Tensor {
  const [n, k] = w.shape as [number, number];
  const rows = numel(dy.shape) / n;
  const dx = s.empty([rows, k], label);
  s.rt.run(matmulGradInput, [{ ...dy, shape: [rows, n] }, w], [dx], { variant: gradVariant(s), m: rows, k, n });
  return dx;
}

/** dW [n, k] = dY^T X, a fresh tensor. */
export function gradWeight(s: Scope, dy: Tensor, x: Tensor, n: number, k: number, label: string): Tensor {
  const rows = numel(dy.shape) / n;
  const dw = s.empty([n, k], label);
  s.rt.run(matmulGradWeight, [{ ...dy, shape: [rows, n] }, { ...x, shape: [rows, k] }], [dw], { variant: gradVariant(s), m: rows, k, n });
  return dw;
}

/** a + b, a fresh tensor. */
export function add(s: Scope, a: Tensor, b: Tensor, label: string): Tensor {
  const y = s.empty(a.shape, label);
  s.rt.run(elementwise, [a, b], [y], { op: 'add', n: numel(a.shape) });
  return y;
}

/** a * b elementwise, a fresh tensor. */
export function mul(s: Scope, a: Tensor, b: Tensor, label: string): Tensor {
  const y = s.empty(a.shape, label);
  s.rt.run(elementwise, [a, b], [y], { op: 'mul', n: numel(a.shape) });
  return y;
}

/** a * k, a fresh tensor. */
export function scaled(s: Scope, a: Tensor, k: number, label: string): Tensor {
  const y = s.empty(a.shape, label);
  s.rt.run(scaleSpec, [a], [y], { n: numel(a.shape), s: k });
  return y;
}

/** grad += delta, in order with the step (the sum goes through a temporary, since a binding cannot be read and written at once). */
export function accumulateInto(s: Scope, grad: Tensor, delta: Tensor): void {
  const n = numel(grad.shape);
  const sum = add(s, grad, { ...delta, shape: grad.shape }, `${grad.label}.sum`);
  s.rt.copy(sum, 0, grad, 0, n);
}

/** grad [n, k] += dY^T X, added in the kernel. */
export function accumulateWeightGrad(s: Scope, grad: Tensor, dy: Tensor, x: Tensor): void {
  const [n, k] = grad.shape as [number, number];
  const rows = numel(dy.shape) / n;
  s.rt.run(matmulGradWeight, [{ ...dy, shape: [rows, n] }, { ...x, shape: [rows, k] }], [grad], { variant: gradVariant(s), m: rows, k, n, accumulate: true });
}

/** dx [rows, k] += dY W, added in the kernel. */
export function accumulateInputGrad(s: Scope, dx: Tensor, dy: Tensor, w: Tensor): void {
  const [n, k] = w.shape as [number, number];
  const rows = numel(dy.shape) / n;
  s.rt.run(matmulGradInput, [{ ...dy, shape: [rows, n] }, w], [{ ...dx, shape: [rows, k] }], { variant: gradVariant(s), m: rows, k, n, accumulate: true });
}

/**
 * dX = dY W through the forward matmul on W^T [k, n], made once per frozen
 * weight and kept by the caller: on CPU-emulated adapters the forward
 * kernels run several times faster than the strided gradient kernel.
 */
export class TransposedWeights {
  private readonly made = new Map<GPUBuffer, Tensor>();

  constructor(readonly enabled: boolean) {}

  static for(rt: Scope['rt']): TransposedWeights {
    return new TransposedWeights(isCpuEmulated(rt.gpu.report));
  }

  gradInput(s: Scope, dy: Tensor, w: Tensor, label: string): Tensor {
    if (!this.enabled) return gradInput(s, dy, w, label);
    const [n, k] = w.shape as [number, number];
    let wt = this.made.get(w.buffer);
    if (!wt) {
      wt = s.rt.empty([k, n], 'f32', `${w.label}.transposed`);
      s.rt.run(transpose, [{ ...w, shape: [1, n, k, 1] }], [{ ...wt, shape: [1, k, n, 1] }], { shape: [1, n, k, 1] });
      this.made.set(w.buffer, wt);
    }
    return linear(s, dy, asLinear(wt), label);
  }

  release(rt: Scope['rt']): void {
    for (const t of this.made.values()) rt.release(t);
    this.made.clear();
  }
}

/** grad [n] += column sums of dY [rows, n]. */
export function accumulateBiasGrad(s: Scope, grad: Tensor, dy: Tensor): void {
  const n = grad.shape[0] as number;
  const m = numel(dy.shape) / n;
  const db = s.empty([n], `${grad.label}.delta`);
  s.rt.run(matmulBiasGrad, [{ ...dy, shape: [m, n] }], [db], { m, n });
  accumulateInto(s, grad, db);
}

/** dx of y = RMSNorm(x) * weight. */
export function rmsNormGrad(s: Scope, x: Tensor, weight: Tensor, dy: Tensor, eps: number, label: string): Tensor {
  const cols = weight.shape[0] as number;
  const rows = numel(x.shape) / cols;
  const dx = s.empty([rows, cols], label);
  const rstd = s.empty([rows], `${label}.rstd`);
  s.rt.run(rmsNormBackward, [{ ...x, shape: [rows, cols] }, weight, { ...dy, shape: [rows, cols] }], [dx, rstd], { rows, cols, eps });
  return dx;
}

/** (dgate, dup) of y = silu(gate) * up. */
export function swigluGrad(s: Scope, gate: Tensor, up: Tensor, dy: Tensor, label: string): [Tensor, Tensor] {
  const dgate = s.empty(gate.shape, `${label}.dgate`);
  const dup = s.empty(up.shape, `${label}.dup`);
  s.rt.run(swigluBackward, [gate, up, dy], [dgate, dup], { n: numel(gate.shape) });
  return [dgate, dup];
}

/** dx of y = op(x). */
export function activationGrad(s: Scope, x: Tensor, dy: Tensor, op: ActivationOp, label: string): Tensor {
  const dx = s.empty(x.shape, label);
  s.rt.run(activationBackward, [x, dy], [dx], { op, n: numel(x.shape) });
  return dx;
}
