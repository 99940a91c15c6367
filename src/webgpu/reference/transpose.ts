/** CPU twin of kernels/transpose.wgsl: [A, B, C, D] -> [A, C, B, D]. */
export function transposeRef(x: ArrayLike<number>, shape: readonly [number, number, number, number]): Float64Array {
  const [sa, sb, sc, sd] = shape;
  const out = new Float64Array(sa * sb * sc * sd);
  let o = 0;
  for (let a = 0; a < sa; a++) {
    for (let c = 0; c < sc; c++) {
      for (let b = 0; b < sb; b++) {
        const base = ((a * sb + b) * sc + c) * sd;
        for (let d = 0; d < sd; d++) out[o++] = x[base + d] as number;
      }
    }
  }
  return out;
}
