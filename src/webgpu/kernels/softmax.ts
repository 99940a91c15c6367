import wgsl from './softmax.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { expectSignature } from './signature';

export interface SoftmaxParams {
  /** N: rows, each softmaxed on its own. */
  rows: number;
  /** C: the softmaxed last dim (V for logits, S for attention scores). */
  cols: number;
}

const uniforms = (p: SoftmaxParams) => new Uint32Array([p.rows, p.cols]).buffer;
/** One workgroup per row. */
const perRow = (p: SoftmaxParams, ctx: KernelContext) => dispatch1d(p.rows, ctx);

/** y [N, C] = softmax(x [N, C]) over C; inputs (x). */
export const softmax: KernelSpec<SoftmaxParams> = {
  name: 'softmax',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('softmax', inputs, outputs, {
      inputs: [{ name: 'x', dtype: 'f32', shape: [p.rows, p.cols] }],
      outputs: [{ name: 'y', dtype: 'f32', shape: [p.rows, p.cols] }],
    });
  },
  entryPoint: () => 'forward',
  pipelineKey: () => 'softmax.forward',
  uniforms,
  dispatch: perRow,
};

/** dx [N, C] = y * (dy - sum_C(dy * y)); inputs (y, dy), y being the forward's output. */
export const softmaxBackward: KernelSpec<SoftmaxParams> = {
  name: 'softmax-backward',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('softmax-backward', inputs, outputs, {
      inputs: [
        { name: 'y', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'dy', dtype: 'f32', shape: [p.rows, p.cols] },
      ],
      outputs: [{ name: 'dx', dtype: 'f32', shape: [p.rows, p.cols] }],
    });
  },
  entryPoint: () => 'backward',
  pipelineKey: () => 'softmax.backward',
  uniforms,
  dispatch: perRow,
};
