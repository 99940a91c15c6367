/**
 * CPU twin of kernels/rope.wgsl in f64 (exact angles, unlike HF's f32 ones;
 * the tests' tolerances account for the difference). Layout [B, T, H, D],
 * HF rotate_half pairs (i, i + D/2), position ids [B, T].
 */
import type { RopeParams } from '../kernels/rope';

/** Rotates every pair by angle * direction; direction -1 is the backward pass. */
function rotate(x: ArrayLike<number>, positions: ArrayLike<number>, s: RopeParams, direction: number): Float64Array {
  const half = s.headDim / 2;
  const out = new Float64Array(s.batch * s.seq * s.heads * s.headDim);
  for (let bt = 0; bt < s.batch * s.seq; bt++) {
    const pos = positions[bt] as number;
    for (let h = 0; h < s.heads; h++) {
      const base = (bt * s.heads + h) * s.headDim;
      for (let i = 0; i < half; i++) {
        const angle = pos / Math.pow(s.theta, (2 * i) / s.headDim);
        const c = Math.cos(angle);
        const sn = Math.sin(angle) * direction;
        const lo = x[base + i] as number;
        const hi = x[base + i + half] as number;
        out[base + i] = lo * c - hi * sn;
        out[base + i + half] = hi * c + lo * sn;
      }
    }
  }
  return out;
}

/** The forward rotation, or its inverse (by -angle) when s.inverse is set, as the kernel's param. */
export function ropeRef(x: ArrayLike<number>, positions: ArrayLike<number>, s: RopeParams): Float64Array {
  return rotate(x, positions, s, s.inverse === true ? -1 : 1);
}

/** The rotation is orthogonal, so its transpose (rotation by -angle) maps dy to dx. */
export function ropeBackwardRef(dy: ArrayLike<number>, positions: ArrayLike<number>, s: RopeParams): Float64Array {
  return rotate(dy, positions, s, s.inverse === true ? 1 : -1);
}
