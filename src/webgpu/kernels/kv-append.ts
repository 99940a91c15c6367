import wgsl from './kv-append.wgsl?raw';
import { KernelInputError } from '../errors';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';

export interface KvAppendParams {
  batch: number;
  tNew: number;
  kvHeads: number;
  headDim: number;
  sCap: number;
  /** First cache row to write. */
  pos: number;
}

const WORKGROUP = 64;
const groups = (p: KvAppendParams, ctx: KernelContext) =>
  dispatch1d(Math.ceil((p.batch * p.tNew * p.kvHeads * p.headDim) / WORKGROUP), ctx);

/** Inputs: rows [B, T_new, Hkv, D]. Outputs: cache [B, S_cap, Hkv, D], written in place. */
export const kvAppend: KernelSpec<KvAppendParams> = {
  name: 'kv-append',
  wgsl,
  validate(inputs, outputs, p) {
    const [rows] = inputs;
    const [cache] = outputs;
    const shapes = [...inputs, ...outputs].map((t) => t.shape);
    const fail = (why: string): never => {
      throw new KernelInputError('kv-append', why, shapes);
    };
    if (!rows || !cache || inputs.length !== 1 || outputs.length !== 1) fail('expects one input (rows) and one output (cache)');
    if (rows?.shape.join() !== [p.batch, p.tNew, p.kvHeads, p.headDim].join()) fail('rows should be [B, T_new, Hkv, D]');
    if (cache?.shape.join() !== [p.batch, p.sCap, p.kvHeads, p.headDim].join()) fail('cache should be [B, S_cap, Hkv, D]');
    if (rows?.dtype !== 'f32' || cache?.dtype !== 'f32') fail('rows and cache must be f32');
    if (p.pos + p.tNew > p.sCap) fail(`rows ${p.pos}..${p.pos + p.tNew - 1} do not fit a cache of ${p.sCap}`);
  },
  entryPoint: () => 'main',
  pipelineKey: () => 'kv-append',
  uniforms: (p, ctx) =>
    new Uint32Array([p.batch, p.tNew, p.kvHeads * p.headDim, p.sCap, p.pos, groups(p, ctx)[0] * WORKGROUP]).buffer,
  dispatch: groups,
};
