/**
 * Host-side IEEE binary16 conversions, for uploading f16 operands before the
 * runtime has an f16 dtype (and before every browser has Float16Array): an
 * f16 tensor of `count` values travels as ceil(count / 2) u32 words, value 2i
 * in the low half of word i, exactly the bytes WGSL's array<f16> reads.
 */

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

function roundShifted(mant: number, shift: number): number {
  const half = 1 << (shift - 1);
  const rem = mant & ((1 << shift) - 1);
  const kept = mant >>> shift;
  return rem > half || (rem === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** The f16 bit pattern nearest to v (round half to even; overflow gives infinity). */
export function f16Bits(v: number): number {
  f32Scratch[0] = v;
  const bits = u32Scratch[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Below 2^-25 everything rounds to zero; above, an f16 subnormal.
    if (e < -10) return sign;
    return sign | roundShifted(mant | 0x800000, 14 - e);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return (sign | (e << 10)) + roundShifted(mant, 13);
}

/** The value of an f16 bit pattern. */
export function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? Number.NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** v rounded to the nearest f16. */
export function f16Round(v: number): number {
  return f16Value(f16Bits(v));
}

export function packedF16Words(count: number): number {
  return Math.ceil(count / 2);
}

/** Values as f16, two per u32 word, little end first. */
export function packF16(values: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(packedF16Words(values.length));
  for (let i = 0; i < values.length; i++) {
    const word = i >> 1;
    out[word] = ((out[word] as number) | (f16Bits(values[i] as number) << ((i & 1) * 16))) >>> 0;
  }
  return out;
}

/** The first `count` f16 values of packed words, widened to f32. */
export function unpackF16(words: Uint32Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = f16Value(((words[i >> 1] as number) >>> ((i & 1) * 16)) & 0xffff);
  return out;
}
