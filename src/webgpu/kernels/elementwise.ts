import body from './elementwise.wgsl?raw';
import { KernelInputError } from '../errors';
import { dispatch1d, type KernelSpec } from '../kernel';
import { numel, type Tensor } from '../tensor';
import { wgslModule } from './wgsl-module';

export type ElementwiseOp = 'add' | 'mul';
export interface ElementwiseParams {
  op: ElementwiseOp;
  /** Element count of every operand. */
  n: number;
}

const wgsl = wgslModule({ preludes: ['binary-operands'] }, body);
const WORKGROUP = 64;

/** Every operand is f32 with n elements, whatever its shape. */
function expectFlatF32(
  kernel: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  arity: { inputs: number; outputs: number; text: string },
  n: number,
): void {
  const shapes = [...inputs, ...outputs].map((t) => t.shape);
  if (inputs.length !== arity.inputs || outputs.length !== arity.outputs) {
    throw new KernelInputError(kernel, `expects ${arity.text}`, shapes);
  }
  for (const t of [...inputs, ...outputs]) {
    if (t.dtype !== 'f32') throw new KernelInputError(kernel, `dtype ${t.dtype} is not f32`, shapes);
    if (numel(t.shape) !== n) throw new KernelInputError(kernel, `every operand must hold ${n} elements`, shapes);
  }
  if (n < 1) throw new KernelInputError(kernel, 'needs at least one element', shapes);
}

export const elementwise: KernelSpec<ElementwiseParams> = {
  name: 'elementwise',
  wgsl,
  validate(inputs, outputs, p) {
    expectFlatF32('elementwise', inputs, outputs, { inputs: 2, outputs: 1, text: 'two inputs and one output' }, p.n);
  },
  entryPoint: (p) => p.op,
  pipelineKey: (p) => `elementwise.${p.op}`,
  uniforms(p, ctx) {
    const [x] = dispatch1d(Math.ceil(p.n / WORKGROUP), ctx);
    return new Uint32Array([p.n, x * WORKGROUP]).buffer;
  },
  dispatch: (p, ctx) => dispatch1d(Math.ceil(p.n / WORKGROUP), ctx),
};

export interface ScaleParams {
  /** Element count of the input and the output. */
  n: number;
  /** The scalar every element is multiplied by. */
  s: number;
}

/** out [N] = a [N] * s, any shape; inputs (a). Also its own backward: da = dout * s. */
export const scale: KernelSpec<ScaleParams> = {
  name: 'elementwise-scale',
  wgsl,
  validate(inputs, outputs, p) {
    expectFlatF32('elementwise-scale', inputs, outputs, { inputs: 1, outputs: 1, text: 'one input and one output' }, p.n);
    if (!Number.isFinite(p.s)) {
      throw new KernelInputError('elementwise-scale', `s must be finite, got ${p.s}`, [...inputs, ...outputs].map((t) => t.shape));
    }
  },
  entryPoint: () => 'scale',
  pipelineKey: () => 'elementwise.scale',
  uniforms(p, ctx) {
    const [x] = dispatch1d(Math.ceil(p.n / WORKGROUP), ctx);
    const data = new ArrayBuffer(12);
    new Uint32Array(data, 0, 2).set([p.n, x * WORKGROUP]);
    new Float32Array(data, 8, 1)[0] = p.s;
    return data;
  },
  dispatch: (p, ctx) => dispatch1d(Math.ceil(p.n / WORKGROUP), ctx),
};
