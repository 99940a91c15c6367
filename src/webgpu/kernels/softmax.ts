import body from './softmax.wgsl?raw';
import { f32, rowWiseSpec } from './row-wise';
import { wgslModule } from './wgsl-module';

export interface SoftmaxParams {
  /** N: rows, each softmaxed on its own. */
  rows: number;
  /** C: the softmaxed last dim (V for logits, S for attention scores). */
  cols: number;
}

const family = {
  wgsl: wgslModule({ preludes: ['reductions'] }, body),
  uniforms: (p: SoftmaxParams) => new Uint32Array([p.rows, p.cols]).buffer,
};

/** y [N, C] = softmax(x [N, C]) over C; inputs (x). */
export const softmax = rowWiseSpec<SoftmaxParams>({
  ...family,
  name: 'softmax',
  entryPoint: 'forward',
  operands: (p) => ({ inputs: [f32('x', p.rows, p.cols)], outputs: [f32('y', p.rows, p.cols)] }),
});

/** dx [N, C] = y * (dy - sum_C(dy * y)); inputs (y, dy), y being the forward's output. */
export const softmaxBackward = rowWiseSpec<SoftmaxParams>({
  ...family,
  name: 'softmax-backward',
  entryPoint: 'backward',
  pipelineKey: 'softmax.backward',
  operands: (p) => ({ inputs: [f32('y', p.rows, p.cols), f32('dy', p.rows, p.cols)], outputs: [f32('dx', p.rows, p.cols)] }),
});
