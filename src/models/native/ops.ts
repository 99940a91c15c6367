/**
 * The building blocks the model files are written in: each records kernels
 * into the runtime's current step and returns a fresh tensor, so a forward
 * pass reads like the PyTorch module it mirrors. Temporaries are tracked by a
 * Scope and released together once the step is done.
 */
import { activation, swiglu, type ActivationOp } from '../../webgpu/kernels/activations';
import { elementwise } from '../../webgpu/kernels/elementwise';
import { layerNorm } from '../../webgpu/kernels/layer-norm';
import { matmulInputs, type MatmulEpilogue } from '../../webgpu/kernels/matmul-params';
import { matmulW16 } from '../../webgpu/kernels/matmul-f16';
import { selectMatmul, selectMatmulVariant } from '../../webgpu/kernels/matmul-select';
import { rmsNorm } from '../../webgpu/kernels/rms-norm';
import type { GpuRuntime } from '../../webgpu/runtime';
import { numel, type Tensor } from '../../webgpu/tensor';
import type { Linear } from './weights';

/** Temporaries of one forward step, released together. */
export class Scope {
  private readonly temps: Tensor[] = [];

  constructor(readonly rt: GpuRuntime) {}

  empty(shape: readonly number[], label: string, dtype: 'f32' | 'i32' = 'f32'): Tensor {
    const t = this.rt.empty(shape, dtype, label);
    this.temps.push(t);
    return t;
  }

  upload(data: Float32Array | Int32Array, shape: readonly number[], label: string): Tensor {
    const t = this.rt.upload(data, shape, label);
    this.temps.push(t);
    return t;
  }

  /** Release every temporary except those kept (the step's results). */
  release(keep: readonly Tensor[] = []): void {
    for (const t of this.temps) if (!keep.includes(t)) this.rt.release(t);
    this.temps.length = 0;
    for (const t of keep) this.temps.push(t);
  }
}

/** y [rows, n] = x [rows, k] W^T + b, then the epilogue (residual adds `residual`). */
export function linear(s: Scope, x: Tensor, lin: Linear, label: string, opts: { epilogue?: MatmulEpilogue; residual?: Tensor } = {}): Tensor {
  const rows = numel(x.shape) / lin.k;
  const y = s.empty([rows, lin.n], label);
  const common = { m: rows, k: lin.k, n: lin.n, bias: lin.bias !== null, epilogue: opts.epilogue ?? 'none' } as const;
  const xs = { ...x, shape: [rows, lin.k] };
  const extras = { ...(lin.bias ? { bias: lin.bias } : {}), ...(opts.residual ? { residual: opts.residual } : {}) };
  const facts = s.rt.gpu.report;
  if (lin.weight.kind === 'f32') {
    const { spec, variant } = selectMatmul(facts, { m: rows, k: lin.k, weights: 'f32' });
    s.rt.run(spec, matmulInputs(xs, [lin.weight.w], extras), [y], { ...common, variant });
  } else if (lin.weight.kind === 'f16') {
    // f16 weights, f32 activations: the f16 matmul body with only W halved.
    s.rt.run(matmulW16, matmulInputs(xs, [lin.weight.w], extras), [y], { ...common, variant: selectMatmulVariant(facts, rows) });
  } else {
    const w = lin.weight;
    const { spec, variant } = selectMatmul(facts, { m: rows, k: lin.k, weights: w.bits === 8 ? 'int8' : 'int4' });
    s.rt.run(spec, matmulInputs(xs, [w.packed, w.scales], extras), [y], { ...common, variant, bits: w.bits, groupSize: w.groupSize });
  }
  return y;
}

export function layerNormOp(s: Scope, x: Tensor, weight: Tensor, bias: Tensor, eps: number, label: string): Tensor {
  const cols = weight.shape[0] as number;
  const rows = numel(x.shape) / cols;
  const y = s.empty([rows, cols], label);
  s.rt.run(layerNorm, [{ ...x, shape: [rows, cols] }, weight, bias], [y], { rows, cols, eps });
  return y;
}

export function rmsNormOp(s: Scope, x: Tensor, weight: Tensor, eps: number, label: string): Tensor {
  const cols = weight.shape[0] as number;
  const rows = numel(x.shape) / cols;
  const y = s.empty([rows, cols], label);
  s.rt.run(rmsNorm, [{ ...x, shape: [rows, cols] }, weight], [y], { rows, cols, eps });
  return y;
}

/** HF hidden_act names to our activation kernel's ops. */
export function activationFor(hfName: string): ActivationOp {
  switch (hfName) {
    case 'gelu':
      return 'gelu_erf';
    case 'gelu_pytorch_tanh':
    case 'gelu_new':
      return 'gelu_tanh';
    case 'silu':
      return 'silu';
    case 'quick_gelu':
      return 'quick_gelu';
    default:
      throw new Error(`activation ${hfName} is not supported by the native engine (supported: gelu, gelu_pytorch_tanh, silu, quick_gelu)`);
  }
}

export function activationOp(s: Scope, x: Tensor, op: ActivationOp, label: string): Tensor {
  const y = s.empty(x.shape, label);
  s.rt.run(activation, [x], [y], { op, n: numel(x.shape) });
  return y;
}

export function swigluOp(s: Scope, gate: Tensor, up: Tensor, label: string): Tensor {
  const y = s.empty(gate.shape, label);
  s.rt.run(swiglu, [gate, up], [y], { n: numel(gate.shape) });
  return y;
}

export function addOp(s: Scope, a: Tensor, b: Tensor, label: string): Tensor {
  const y = s.empty(a.shape, label);
  s.rt.run(elementwise, [a, b], [y], { op: 'add', n: numel(a.shape) });
  return y;
}
