import wgsl from './avg-pool.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { expectParam, expectSignature } from './signature';

export interface AvgPoolParams {
  batch: number;
  gridH: number;
  gridW: number;
  channels: number;
  /** Pooling window and stride. */
  k: number;
}

const WORKGROUP = 64;
const outputs = (p: AvgPoolParams) => p.batch * (p.gridH / p.k) * (p.gridW / p.k) * p.channels;
const grid = (p: AvgPoolParams, ctx: KernelContext) => dispatch1d(Math.ceil(outputs(p) / WORKGROUP), ctx);

/** out [B, GH/k, GW/k, C] = k x k means of x [B, GH, GW, C]; inputs (x). */
export const avgPool: KernelSpec<AvgPoolParams> = {
  name: 'avg-pool',
  wgsl,
  validate(inputs, outs, p) {
    expectParam('avg-pool', Number.isInteger(p.k) && p.k >= 1, `k must be a positive integer, got ${p.k}`, inputs);
    expectParam('avg-pool', p.gridH % p.k === 0 && p.gridW % p.k === 0, `grid ${p.gridH}x${p.gridW} is not a multiple of k=${p.k}`, inputs);
    expectSignature('avg-pool', inputs, outs, {
      inputs: [{ name: 'x', dtype: 'f32', shape: [p.batch, p.gridH, p.gridW, p.channels] }],
      outputs: [{ name: 'out', dtype: 'f32', shape: [p.batch, p.gridH / p.k, p.gridW / p.k, p.channels] }],
    });
  },
  entryPoint: () => 'main',
  pipelineKey: () => 'avg-pool',
  uniforms: (p, ctx) => new Uint32Array([p.batch, p.gridH, p.gridW, p.channels, p.k, grid(p, ctx)[0] * WORKGROUP]).buffer,
  dispatch: grid,
};
