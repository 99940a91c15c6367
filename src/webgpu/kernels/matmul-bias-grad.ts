import wgsl from './matmul-bias-grad.wgsl?raw';
import type { KernelSpec } from '../kernel';
import { rowsShape } from './matmul-params';
import { expectParam, expectSignature } from './signature';

export interface MatmulBiasGradParams {
  m: number;
  n: number;
  /** Bt; 1 when absent. Every row of every batch item adds into db. */
  batch?: number;
}

const WORKGROUP = 64;

/** db [N] = dY [Bt, M, N] summed over rows, in row order (deterministic). */
export const matmulBiasGrad: KernelSpec<MatmulBiasGradParams> = {
  name: 'matmul-bias-grad',
  wgsl,
  validate(inputs, outputs, p) {
    const bt = p.batch ?? 1;
    const dims = [p.m, p.n, bt];
    const ok = dims.every((d) => Number.isInteger(d) && d >= 1);
    expectParam('matmul-bias-grad', ok, `m, n and batch must be positive integers, got ${dims.join(', ')}`, [...inputs, ...outputs]);
    expectSignature('matmul-bias-grad', inputs, outputs, {
      inputs: [{ name: 'dy', dtype: 'f32', shape: rowsShape(inputs[0], bt, p.m, p.n) }],
      outputs: [{ name: 'db', dtype: 'f32', shape: [p.n] }],
    });
  },
  entryPoint: () => 'bias_grad',
  pipelineKey: () => 'matmul-bias-grad.bias_grad',
  uniforms: (p) => new Uint32Array([(p.batch ?? 1) * p.m, p.n]).buffer,
  dispatch: (p) => [Math.ceil(p.n / WORKGROUP), 1, 1],
};
