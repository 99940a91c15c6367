import wgsl from './activations.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { numel, type Tensor } from '../tensor';
import { expectParam } from './signature';

/** gelu_tanh: HF gelu_pytorch_tanh; gelu_erf: HF gelu (exact); silu: HF silu / swish. */
export type ActivationOp = 'gelu_tanh' | 'gelu_erf' | 'silu' | 'quick_gelu';

export interface ActivationParams {
  op: ActivationOp;
  /** N: element count of every operand. */
  n: number;
}

/** SwiGLU has one op; its params are the element count only. */
export interface SwigluParams {
  n: number;
}

const WORKGROUP = 64;
/** Values of the shader's `op` override constant. */
const OP_CODE: Record<ActivationOp, number> = { gelu_tanh: 0, gelu_erf: 1, silu: 2, quick_gelu: 3 };

function grid(n: number, ctx: KernelContext): [number, number, number] {
  return dispatch1d(Math.ceil(n / WORKGROUP), ctx);
}

function uniforms(n: number, ctx: KernelContext): ArrayBuffer {
  const [x] = grid(n, ctx);
  return new Uint32Array([n, x * WORKGROUP]).buffer;
}

/**
 * Pointwise kernels take operands of any shape holding n f32 values each
 * ([B, T, C] activations need no reshape); names follow the .wgsl header.
 */
function expectPointwise(
  kernel: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  names: { inputs: readonly string[]; outputs: readonly string[] },
  n: number,
): void {
  const all = [...inputs, ...outputs];
  const roles = [...names.inputs, ...names.outputs];
  expectParam(
    kernel,
    inputs.length === names.inputs.length && outputs.length === names.outputs.length,
    `expects ${names.inputs.length} inputs (${names.inputs.join(', ')}) and ${names.outputs.length} outputs (${names.outputs.join(', ')}), got ${inputs.length} and ${outputs.length}`,
    all,
  );
  expectParam(kernel, Number.isInteger(n) && n >= 1, `n must be a positive integer, got ${n}`, all);
  all.forEach((t, i) => {
    expectParam(kernel, t.dtype === 'f32', `${roles[i]} must be f32, got dtype ${t.dtype}`, all);
    expectParam(kernel, numel(t.shape) === n, `${roles[i]} must hold ${n} values, got ${numel(t.shape)}`, all);
  });
}

/** y [N] = op(x [N]); inputs (x). */
export const activation: KernelSpec<ActivationParams> = {
  name: 'activation',
  wgsl,
  validate(inputs, outputs, p) {
    expectPointwise(`activation.${p.op}`, inputs, outputs, { inputs: ['x'], outputs: ['y'] }, p.n);
  },
  entryPoint: () => 'forward',
  constants: (p) => ({ op: OP_CODE[p.op] }),
  pipelineKey: (p) => `activation.forward.${p.op}`,
  uniforms: (p, ctx) => uniforms(p.n, ctx),
  dispatch: (p, ctx) => grid(p.n, ctx),
};

/** dx [N] = dy [N] * op'(x [N]); inputs (x, dy). */
export const activationBackward: KernelSpec<ActivationParams> = {
  name: 'activation-backward',
  wgsl,
  validate(inputs, outputs, p) {
    expectPointwise(`activation-backward.${p.op}`, inputs, outputs, { inputs: ['x', 'dy'], outputs: ['dx'] }, p.n);
  },
  entryPoint: () => 'backward',
  constants: (p) => ({ op: OP_CODE[p.op] }),
  pipelineKey: (p) => `activation.backward.${p.op}`,
  uniforms: (p, ctx) => uniforms(p.n, ctx),
  dispatch: (p, ctx) => grid(p.n, ctx),
};

/** y [N] = silu(gate [N]) * up [N]; inputs (gate, up). */
export const swiglu: KernelSpec<SwigluParams> = {
  name: 'swiglu',
  wgsl,
  validate(inputs, outputs, p) {
    expectPointwise('swiglu', inputs, outputs, { inputs: ['gate', 'up'], outputs: ['y'] }, p.n);
  },
  entryPoint: () => 'swiglu_forward',
  pipelineKey: () => 'activation.swiglu_forward',
  uniforms: (p, ctx) => uniforms(p.n, ctx),
  dispatch: (p, ctx) => grid(p.n, ctx),
};

/** dgate [N] and dup [N] from (gate, up, dy). */
export const swigluBackward: KernelSpec<SwigluParams> = {
  name: 'swiglu-backward',
  wgsl,
  validate(inputs, outputs, p) {
    expectPointwise('swiglu-backward', inputs, outputs, { inputs: ['gate', 'up', 'dy'], outputs: ['dgate', 'dup'] }, p.n);
  },
  entryPoint: () => 'swiglu_backward',
  pipelineKey: () => 'activation.swiglu_backward',
  uniforms: (p, ctx) => uniforms(p.n, ctx),
  dispatch: (p, ctx) => grid(p.n, ctx),
};
