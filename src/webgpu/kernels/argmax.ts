import body from './argmax.wgsl?raw';
import { dispatch1d } from '../kernel';
import { f32, i32, rowWiseSpec } from './row-wise';
import { wgslModule } from './wgsl-module';

export interface ArgmaxParams {
  /** N: rows. */
  rows: number;
  /** V: values per row. */
  vocab: number;
}

/** out [N] i32 = index of each row's largest value in x [N, V], lowest index on ties. */
export const argmax = rowWiseSpec<ArgmaxParams>({
  name: 'argmax',
  wgsl: wgslModule({ preludes: ['ranking'] }, body),
  entryPoint: 'argmax',
  pipelineKey: 'argmax.f32',
  operands: (p) => ({ inputs: [f32('x', p.rows, p.vocab)], outputs: [i32('out', p.rows)] }),
  uniforms(p, ctx) {
    const [x] = dispatch1d(p.rows, ctx);
    return new Uint32Array([p.rows, p.vocab, x]).buffer;
  },
});
