/** CPU twin of kv-append.wgsl: cache [B, Scap, W] with rows [B, Tnew, W] written at pos. */
export function kvAppendRef(cache: Float32Array, rows: ArrayLike<number>, batch: number, tNew: number, width: number, sCap: number, pos: number): Float32Array {
  const out = Float32Array.from(cache);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < tNew; t++)
      for (let c = 0; c < width; c++) out[(b * sCap + pos + t) * width + c] = rows[(b * tNew + t) * width + c] as number;
  return out;
}
