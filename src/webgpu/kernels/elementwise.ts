import wgsl from './elementwise.wgsl?raw';
import { KernelInputError } from '../errors';
import { dispatch1d, type KernelSpec } from '../kernel';
import { numel } from '../tensor';

export type ElementwiseOp = 'add' | 'mul';
export interface ElementwiseParams {
  op: ElementwiseOp;
  /** Element count of every operand. */
  n: number;
}

const WORKGROUP = 64;

export const elementwise: KernelSpec<ElementwiseParams> = {
  name: 'elementwise',
  wgsl,
  validate(inputs, outputs, p) {
    const shapes = [...inputs, ...outputs].map((t) => t.shape);
    if (inputs.length !== 2 || outputs.length !== 1) {
      throw new KernelInputError('elementwise', 'expects two inputs and one output', shapes);
    }
    for (const t of [...inputs, ...outputs]) {
      if (t.dtype !== 'f32') throw new KernelInputError('elementwise', `dtype ${t.dtype} is not f32`, shapes);
      if (numel(t.shape) !== p.n) {
        throw new KernelInputError('elementwise', `every operand must hold ${p.n} elements`, shapes);
      }
    }
    if (p.n < 1) throw new KernelInputError('elementwise', 'needs at least one element', shapes);
  },
  entryPoint: (p) => p.op,
  pipelineKey: (p) => `elementwise.${p.op}`,
  uniforms(p, ctx) {
    const [x] = dispatch1d(Math.ceil(p.n / WORKGROUP), ctx);
    return new Uint32Array([p.n, x * WORKGROUP]).buffer;
  },
  dispatch: (p, ctx) => dispatch1d(Math.ceil(p.n / WORKGROUP), ctx),
};
