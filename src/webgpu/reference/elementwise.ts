/** CPU twin of kernels/elementwise.wgsl, in f64 accumulating to f32 like the GPU. */
import type { ElementwiseOp } from '../kernels/elementwise';

export function elementwiseRef(op: ElementwiseOp, a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length) throw new Error(`elementwiseRef: lengths differ (${a.length} vs ${b.length})`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    out[i] = op === 'add' ? x + y : x * y;
  }
  return out;
}

/** CPU twin of the scale entry point: out = a * s, rounded to f32 once like the GPU. */
export function scaleRef(a: Float32Array, s: number): Float32Array {
  const f = Math.fround(s);
  return a.map((x) => x * f);
}
