/**
 * Per-group symmetric weight quantization along K, the layout the int8/int4
 * matmul kernels read. W is [N, K] (HF Linear [out, in]); every run of
 * `groupSize` consecutive k in a row shares one f32 scale, so a weight is
 * stored as q * scale with q an integer in [-qmax, qmax].
 *
 * Packing: int8 puts 4 values in a u32, int4 puts 8; element k of a row sits
 * in word k / perWord at bit (k % perWord) * bits, little end first, as a
 * two's-complement field (the kernel sign-extends it with shifts).
 */

export type QuantBits = 4 | 8;

export interface QuantizedWeights {
  readonly bits: QuantBits;
  readonly groupSize: number;
  /** Rows (output features). */
  readonly n: number;
  /** Columns (input features); a multiple of groupSize. */
  readonly k: number;
  /** [N, K * bits / 32] packed values. */
  readonly packed: Uint32Array;
  /** [N, K / groupSize] per-group scales. */
  readonly scales: Float32Array;
}

export const MIN_GROUP_SIZE = 32;
export const MAX_GROUP_SIZE = 128;

/** Largest |q|; int4 leaves -8 unused so the range stays symmetric. */
export function quantMax(bits: QuantBits): number {
  return bits === 8 ? 127 : 7;
}

export function valuesPerWord(bits: QuantBits): number {
  return 32 / bits;
}

/** u32 words per packed row of K values. */
export function wordsPerRow(k: number, bits: QuantBits): number {
  return (k * bits) / 32;
}

/**
 * Why a (K, group size, bits) triple cannot be quantized, or null when it can.
 * Group sizes are multiples of 8 so a packed word never straddles two groups
 * and the kernels' vec4 loads of X stay aligned.
 */
export function quantLayoutProblem(k: number, groupSize: number, bits: number): string | null {
  if (bits !== 4 && bits !== 8) return `bits must be 4 or 8, not ${bits}`;
  if (!Number.isInteger(groupSize) || groupSize < MIN_GROUP_SIZE || groupSize > MAX_GROUP_SIZE || groupSize % 8 !== 0) {
    return `group size ${groupSize} must be a multiple of 8 in [${MIN_GROUP_SIZE}, ${MAX_GROUP_SIZE}]`;
  }
  if (!Number.isInteger(k) || k < 1 || k % groupSize !== 0) {
    return `group size ${groupSize} does not divide K=${k}; pad K to a multiple of it or pick a group size that divides K`;
  }
  return null;
}

/** Thrown by quantize() for a layout it cannot pack or weights it cannot represent. */
export class QuantizationError extends Error {
  override readonly name = 'QuantizationError';
}

function groupScale(w: Float32Array, start: number, size: number, qmax: number): number {
  let maxAbs = 0;
  for (let i = start; i < start + size; i++) {
    const v = w[i] as number;
    if (!Number.isFinite(v)) throw new QuantizationError(`quantize: weight ${i} is ${v}; only finite weights quantize`);
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const scale = Math.fround(maxAbs / qmax);
  // A group of tiny weights can underflow maxAbs / qmax to 0 in f32; scaling
  // by maxAbs itself still keeps every error within scale / 2.
  return scale === 0 && maxAbs > 0 ? maxAbs : scale;
}

function quantizeValue(v: number, scale: number, qmax: number): number {
  if (scale === 0) return 0;
  const q = Math.sign(v) * Math.round(Math.abs(v / scale));
  return Math.max(-qmax, Math.min(qmax, q));
}

/** Quantize row-major W [N, K] to `bits` with one scale per `groupSize` values along K. */
export function quantize(w: Float32Array, n: number, k: number, bits: QuantBits, groupSize: number): QuantizedWeights {
  const problem = quantLayoutProblem(k, groupSize, bits);
  if (problem) throw new QuantizationError(`quantize [${n},${k}] int${bits}: ${problem}`);
  if (w.length !== n * k) throw new QuantizationError(`quantize: ${w.length} weights do not make [${n},${k}]`);
  const qmax = quantMax(bits);
  const perWord = valuesPerWord(bits);
  const rowWords = wordsPerRow(k, bits);
  const groups = k / groupSize;
  const mask = (1 << bits) - 1;
  const packed = new Uint32Array(n * rowWords);
  const scales = new Float32Array(n * groups);
  for (let row = 0; row < n; row++) {
    for (let g = 0; g < groups; g++) {
      const start = row * k + g * groupSize;
      const scale = groupScale(w, start, groupSize, qmax);
      scales[row * groups + g] = scale;
      for (let c = g * groupSize; c < (g + 1) * groupSize; c++) {
        const q = quantizeValue(w[row * k + c] as number, scale, qmax);
        const word = row * rowWords + Math.floor(c / perWord);
        packed[word] = ((packed[word] as number) | ((q & mask) << ((c % perWord) * bits))) >>> 0;
      }
    }
  }
  return { bits, groupSize, n, k, packed, scales };
}

/** The signed integer stored for element (row, c). */
export function quantizedValue(q: QuantizedWeights, row: number, c: number): number {
  const perWord = valuesPerWord(q.bits);
  const word = q.packed[row * wordsPerRow(q.k, q.bits) + Math.floor(c / perWord)] as number;
  const field = (word >>> ((c % perWord) * q.bits)) & ((1 << q.bits) - 1);
  return field >= 1 << (q.bits - 1) ? field - (1 << q.bits) : field;
}

/** W' [N, K] = q * scale, rounded to f32 as the kernels see it. */
export function dequantize(q: QuantizedWeights): Float32Array {
  const out = new Float32Array(q.n * q.k);
  const groups = q.k / q.groupSize;
  for (let row = 0; row < q.n; row++) {
    for (let c = 0; c < q.k; c++) {
      const scale = q.scales[row * groups + Math.floor(c / q.groupSize)] as number;
      out[row * q.k + c] = quantizedValue(q, row, c) * scale;
    }
  }
  return out;
}

/**
 * Per-element bound [N, K] on |w - dequantize(w)|: half a quantization step
 * from rounding to the nearest integer, plus the f32 rounding of q * scale
 * (at most qmax * scale * 2^-24, doubled to cover the clamp at +-qmax when
 * the f32 scale rounded down).
 */
export function quantErrorBound(q: QuantizedWeights): Float32Array {
  const out = new Float32Array(q.n * q.k);
  const groups = q.k / q.groupSize;
  const slack = 0.5 + quantMax(q.bits) * 2 ** -23;
  for (let row = 0; row < q.n; row++) {
    for (let c = 0; c < q.k; c++) {
      out[row * q.k + c] = (q.scales[row * groups + Math.floor(c / q.groupSize)] as number) * slack;
    }
  }
  return out;
}

/**
 * Bound [rows, N] on |x W^T - x deq(W)^T| for X [rows, K]: each output sums K
 * products, each off by at most |x_k| times the element bound.
 */
export function quantMatmulErrorBound(x: Float32Array, rows: number, q: QuantizedWeights): Float64Array {
  if (x.length !== rows * q.k) throw new QuantizationError(`quantMatmulErrorBound: X is not [${rows},${q.k}]`);
  const bound = quantErrorBound(q);
  const out = new Float64Array(rows * q.n);
  for (let r = 0; r < rows; r++) {
    for (let col = 0; col < q.n; col++) {
      let s = 0;
      for (let c = 0; c < q.k; c++) s += Math.abs(x[r * q.k + c] as number) * (bound[col * q.k + c] as number);
      out[r * q.n + col] = s;
    }
  }
  return out;
}
