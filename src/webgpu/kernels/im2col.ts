import wgsl from './im2col.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { numel } from '../tensor';
import { expectParam, expectSignature } from './signature';

export interface Im2colParams {
  batch: number;
  /** Cin. */
  channels: number;
  /** Hpx. */
  height: number;
  /** Wpx. */
  width: number;
  /** P: kernel size and stride of the patch convolution. */
  patch: number;
}

const WORKGROUP = 64;

/** [rows, cols] of the patch matrix: [B * GH * GW, Cin * P * P]. */
export function im2colShape(p: Im2colParams): [number, number] {
  const grid = Math.floor(p.height / p.patch) * Math.floor(p.width / p.patch);
  return [p.batch * grid, p.channels * p.patch * p.patch];
}

function grid(p: Im2colParams, ctx: KernelContext): [number, number, number] {
  return dispatch1d(Math.ceil(numel(im2colShape(p)) / WORKGROUP), ctx);
}

/** patches [B*GH*GW, Cin*P*P] from pixels [B, Cin, Hpx, Wpx], laid out for patches x weight^T. */
export const im2col: KernelSpec<Im2colParams> = {
  name: 'im2col',
  wgsl,
  validate(inputs, outputs, p) {
    const tensors = [...inputs, ...outputs];
    const fits = Number.isInteger(p.patch) && p.patch >= 1 && p.height >= p.patch && p.width >= p.patch;
    expectParam('im2col', fits, `patch ${p.patch} must be >= 1 and fit in ${p.height}x${p.width} pixels`, tensors);
    expectSignature('im2col', inputs, outputs, {
      inputs: [{ name: 'pixels', dtype: 'f32', shape: [p.batch, p.channels, p.height, p.width] }],
      outputs: [{ name: 'patches', dtype: 'f32', shape: im2colShape(p) }],
    });
  },
  entryPoint: () => 'im2col',
  pipelineKey: () => 'im2col.f32',
  uniforms(p, ctx) {
    const [x] = grid(p, ctx);
    const gridH = Math.floor(p.height / p.patch);
    const gridW = Math.floor(p.width / p.patch);
    const n = numel(im2colShape(p));
    return new Uint32Array([p.channels, p.height, p.width, p.patch, gridH, gridW, n, x * WORKGROUP]).buffer;
  },
  dispatch: (p, ctx) => grid(p, ctx),
};
