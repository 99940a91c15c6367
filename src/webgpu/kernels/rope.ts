import wgsl from './rope.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { expectParam, expectSignature } from './signature';

export interface RopeParams {
  /** B */
  batch: number;
  /** T */
  seq: number;
  /** H: heads of the tensor rotated (Hkv for keys under grouped-query attention). */
  heads: number;
  /** D: rotated head size, even. */
  headDim: number;
  /** HF rope_theta, the base of the inverse frequencies (10000 for Llama 2). */
  theta: number;
  /**
   * Rotate by the negative angle: the inverse rotation, which is also the
   * gradient of RoPE (a rotation's transpose). On rope-backward it undoes the
   * inversion, giving the forward rotation.
   */
  inverse?: boolean;
}

const WORKGROUP = 64;

const pairs = (p: RopeParams) => (p.batch * p.seq * p.heads * p.headDim) / 2;
const grid = (p: RopeParams, ctx: KernelContext) => dispatch1d(Math.ceil(pairs(p) / WORKGROUP), ctx);

/** Largest head the shader's exact exponent products allow: 2i needs 13 bits beside 11-bit chunks. */
const MAX_HEAD_DIM = 8192;

/** x rounded down to `bits` significant bits, so small integers times it are exact in f32. */
function truncateBits(x: number, bits: number): number {
  if (x === 0) return 0;
  const lsb = 2 ** (Math.floor(Math.log2(Math.abs(x))) - bits + 1);
  return Math.trunc(x / lsb) * lsb;
}

/** log2(theta) / D in f64, split into the shader's three f32 chunks (11, 11 and 24 bits). */
export function log2ThetaOverDChunks(theta: number, headDim: number): [number, number, number] {
  const m = Math.log2(theta) / headDim;
  const hi = truncateBits(m, 11);
  const mid = truncateBits(m - hi, 11);
  return [hi, mid, Math.fround(m - hi - mid)];
}

function uniforms(p: RopeParams, ctx: KernelContext): ArrayBuffer {
  const [x] = grid(p, ctx);
  const data = new ArrayBuffer(32);
  new Uint32Array(data, 0, 4).set([pairs(p), p.heads, p.headDim, x * WORKGROUP]);
  new Float32Array(data, 16, 3).set(log2ThetaOverDChunks(p.theta, p.headDim));
  return data;
}

type RopeEntry = 'forward' | 'backward';

function ropeSpec(name: string, base: RopeEntry, io: { src: string; dst: string }): KernelSpec<RopeParams> {
  const flipped: RopeEntry = base === 'forward' ? 'backward' : 'forward';
  const entry = (p: RopeParams): RopeEntry => (p.inverse === true ? flipped : base);
  return {
    name,
    wgsl,
    validate(inputs, outputs, p) {
      const shape = [p.batch, p.seq, p.heads, p.headDim];
      expectSignature(name, inputs, outputs, {
        inputs: [
          { name: io.src, dtype: 'f32', shape },
          { name: 'position', dtype: 'i32', shape: [p.batch, p.seq] },
        ],
        outputs: [{ name: io.dst, dtype: 'f32', shape }],
      });
      const all = [...inputs, ...outputs];
      expectParam(name, p.headDim % 2 === 0, `headDim must be even to pair i with i + D/2, got ${p.headDim}`, all);
      expectParam(name, p.headDim <= MAX_HEAD_DIM, `headDim must be at most ${MAX_HEAD_DIM}, got ${p.headDim}`, all);
      expectParam(name, Number.isFinite(p.theta) && p.theta > 1, `theta must be a finite number > 1, got ${p.theta}`, all);
    },
    entryPoint: entry,
    pipelineKey: (p) => `rope.${entry(p)}`,
    uniforms,
    dispatch: grid,
  };
}

/**
 * y [B, T, H, D] = x rotated by position [B, T] (i32) times theta^(-2i/D);
 * inputs (x, position). With `inverse`, rotated by minus that angle.
 */
export const rope = ropeSpec('rope', 'forward', { src: 'x', dst: 'y' });

/** dx [B, T, H, D] = dy rotated back by the same angles; inputs (dy, position). */
export const ropeBackward = ropeSpec('rope-backward', 'backward', { src: 'dy', dst: 'dx' });
