import wgsl from './cross-entropy.wgsl?raw';
import { dispatch1d, type KernelContext } from '../kernel';
import { f32, i32, rowWiseSpec } from './row-wise';

/** PyTorch's default ignore_index: rows with this target add no loss and no gradient. */
export const IGNORE_INDEX = -100;

export interface CrossEntropyParams {
  /** N: rows (tokens). */
  rows: number;
  /** V: classes (vocabulary). */
  vocab: number;
}

export interface CrossEntropyBackwardParams extends CrossEntropyParams {
  /** Multiplies every gradient: 1 / countTargets(targets) for the mean loss, times any upstream gradient. */
  scale: number;
}

/** Rows that count toward the mean loss: those whose target is not IGNORE_INDEX. */
export function countTargets(targets: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) n++;
  return n;
}

const NAN_BITS = 0x7fc00000;

function uniforms(p: CrossEntropyParams, scale: number, ctx: KernelContext): ArrayBuffer {
  const [x] = dispatch1d(p.rows, ctx);
  const buf = new ArrayBuffer(20);
  new Uint32Array(buf, 0, 4).set([p.rows, p.vocab, x, NAN_BITS]);
  new Float32Array(buf, 16, 1)[0] = scale;
  return buf;
}

/** loss [N] from (logits [N, V], targets [N] i32); 0 where the target is IGNORE_INDEX. */
export const crossEntropy = rowWiseSpec<CrossEntropyParams>({
  name: 'cross-entropy',
  wgsl,
  entryPoint: 'forward',
  operands: (p) => ({ inputs: [f32('logits', p.rows, p.vocab), i32('targets', p.rows)], outputs: [f32('loss', p.rows)] }),
  uniforms: (p, ctx) => uniforms(p, 0, ctx),
});

/** dlogits [N, V] = (softmax - onehot) * scale from (logits [N, V], targets [N] i32); zero rows where ignored. */
export const crossEntropyBackward = rowWiseSpec<CrossEntropyBackwardParams>({
  name: 'cross-entropy-backward',
  wgsl,
  entryPoint: 'backward',
  pipelineKey: 'cross-entropy.backward',
  operands: (p) => ({
    inputs: [f32('logits', p.rows, p.vocab), i32('targets', p.rows)],
    outputs: [f32('dlogits', p.rows, p.vocab)],
  }),
  uniforms: (p, ctx) => uniforms(p, p.scale, ctx),
});
