import wgsl from './argmax.wgsl?raw';
import { dispatch1d, type KernelSpec } from '../kernel';
import { expectSignature } from './signature';

export interface ArgmaxParams {
  /** N: rows. */
  rows: number;
  /** V: values per row. */
  vocab: number;
}

/** out [N] i32 = index of each row's largest value in x [N, V], lowest index on ties. */
export const argmax: KernelSpec<ArgmaxParams> = {
  name: 'argmax',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('argmax', inputs, outputs, {
      inputs: [{ name: 'x', dtype: 'f32', shape: [p.rows, p.vocab] }],
      outputs: [{ name: 'out', dtype: 'i32', shape: [p.rows] }],
    });
  },
  entryPoint: () => 'argmax',
  pipelineKey: () => 'argmax.f32',
  uniforms(p, ctx) {
    const [x] = dispatch1d(p.rows, ctx);
    return new Uint32Array([p.rows, p.vocab, x]).buffer;
  },
  dispatch: (p, ctx) => dispatch1d(p.rows, ctx),
};
