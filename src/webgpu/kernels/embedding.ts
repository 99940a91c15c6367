import wgsl from './embedding.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { expectSignature } from './signature';

export interface EmbeddingParams {
  /** N: ids looked up. */
  rows: number;
  /** V: rows of the table. */
  vocab: number;
  /** C: width of a row. */
  channels: number;
}

const WORKGROUP = 64;

function grid(invocations: number, ctx: KernelContext): [number, number, number] {
  return dispatch1d(Math.ceil(invocations / WORKGROUP), ctx);
}

function uniforms(p: EmbeddingParams, invocations: number, ctx: KernelContext): ArrayBuffer {
  const [x] = grid(invocations, ctx);
  return new Uint32Array([p.rows, p.vocab, p.channels, x * WORKGROUP]).buffer;
}

/** out [N, C] = weight [V, C] gathered by ids [N]; inputs (ids, weight). */
export const embedding: KernelSpec<EmbeddingParams> = {
  name: 'embedding',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('embedding', inputs, outputs, {
      inputs: [
        { name: 'ids', dtype: 'i32', shape: [p.rows] },
        { name: 'weight', dtype: 'f32', shape: [p.vocab, p.channels] },
      ],
      outputs: [{ name: 'out', dtype: 'f32', shape: [p.rows, p.channels] }],
    });
  },
  entryPoint: () => 'forward',
  pipelineKey: () => 'embedding.forward',
  uniforms: (p, ctx) => uniforms(p, p.rows * p.channels, ctx),
  dispatch: (p, ctx) => grid(p.rows * p.channels, ctx),
};

/** dweight [V, C] (overwritten) = dout [N, C] summed into the rows named by ids; inputs (ids, dout). */
export const embeddingBackward: KernelSpec<EmbeddingParams> = {
  name: 'embedding-backward',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('embedding-backward', inputs, outputs, {
      inputs: [
        { name: 'ids', dtype: 'i32', shape: [p.rows] },
        { name: 'dout', dtype: 'f32', shape: [p.rows, p.channels] },
      ],
      outputs: [{ name: 'dweight', dtype: 'f32', shape: [p.vocab, p.channels] }],
    });
  },
  entryPoint: () => 'backward',
  pipelineKey: () => 'embedding.backward',
  uniforms: (p, ctx) => uniforms(p, p.vocab * p.channels, ctx),
  dispatch: (p, ctx) => grid(p.vocab * p.channels, ctx),
};
