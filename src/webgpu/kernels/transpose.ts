import wgsl from './transpose.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { numel } from '../tensor';
import { expectSignature } from './signature';

export interface TransposeParams {
  /** Input shape [A, B, C, D]; the output is [A, C, B, D]. */
  shape: readonly [number, number, number, number];
}

const WORKGROUP = 64;

function grid(p: TransposeParams, ctx: KernelContext): [number, number, number] {
  return dispatch1d(Math.ceil(numel(p.shape) / WORKGROUP), ctx);
}

/** Output shape of the swap: [A, B, C, D] -> [A, C, B, D]. */
export function swapped(shape: readonly [number, number, number, number]): [number, number, number, number] {
  const [a, b, c, d] = shape;
  return [a, c, b, d];
}

/** Swap axes 1 and 2 of a 4-D tensor, e.g. [B, T, H, D] -> [B, H, T, D]. */
export const transpose: KernelSpec<TransposeParams> = {
  name: 'transpose',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('transpose', inputs, outputs, {
      inputs: [{ name: 'x', dtype: 'f32', shape: p.shape }],
      outputs: [{ name: 'out', dtype: 'f32', shape: swapped(p.shape) }],
    });
  },
  entryPoint: () => 'swap12',
  pipelineKey: () => 'transpose.swap12',
  uniforms(p, ctx) {
    const [x] = grid(p, ctx);
    return new Uint32Array([...p.shape, numel(p.shape), x * WORKGROUP, 0, 0]).buffer;
  },
  dispatch: (p, ctx) => grid(p, ctx),
};
