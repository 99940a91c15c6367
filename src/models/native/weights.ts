/**
 * Checkpoint tensors on the GPU, uploaded once and looked up by their
 * checkpoint names. Linear weights can be kept as f16 (devices with
 * shader-f16 only) or quantized to int8/int4 at load (per-group scales along
 * K); everything else stays f32 (f16/bf16 files are upcast), as do the
 * activations: an f16 weight is read by an f32 matmul (matmul-w16).
 */
import { packF16 } from '../../webgpu/f16';
import { quantize, type QuantBits } from '../../webgpu/quant';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Tensor } from '../../webgpu/tensor';
import { SafetensorsError, type SafetensorsFile } from '../safetensors';

export type WeightDType = 'f32' | 'f16' | 'int8' | 'int4';

export interface Linear {
  /** Output features N (rows of the HF [out, in] weight). */
  n: number;
  /** Input features K. */
  k: number;
  bias: Tensor | null;
  /** f16: [n, k] values packed two per u32 word (f16.ts packF16). */
  weight: { kind: 'f32'; w: Tensor } | { kind: 'f16'; w: Tensor } | { kind: 'quant'; bits: QuantBits; groupSize: number; packed: Tensor; scales: Tensor };
}

export interface WeightOptions {
  dtype?: WeightDType;
  /** Quantization group along K (32..128, dividing K). */
  groupSize?: number;
}

/**
 * Whether a checkpoint tensor of shape `have` can be read as `want`: the same
 * shape, or the same with trailing dimensions flattened (a Conv2d weight
 * [C, C_in, P, P] read as [C, C_in P P]). Equal element counts alone are not
 * enough: a transposed [64, 32] where [32, 64] belongs would load silently.
 */
function fitsShape(have: readonly number[], want: readonly number[]): boolean {
  if (want.length === 0 || have.length < want.length) return false;
  const last = want.length - 1;
  if (have.slice(0, last).some((d, i) => d !== want[i])) return false;
  return have.slice(last).reduce((a, d) => a * d, 1) === want[last];
}

/** The largest allowed group size that divides K, or null when K fits none (that layer stays f32). */
function groupFor(k: number, wanted: number): number | null {
  for (let g = wanted; g >= 32; g /= 2) if (k % g === 0 && g % 8 === 0) return g;
  return null;
}

export class Weights {
  private readonly uploaded = new Map<string, Tensor>();
  /** Every buffer made for the model (weights, quantized weights, constants), given back by release(). */
  private readonly owned: Tensor[] = [];
  private bytes = 0;

  constructor(
    readonly rt: GpuRuntime,
    private readonly file: SafetensorsFile,
    private readonly options: WeightOptions = {},
  ) {
    if (options.dtype === 'f16' && !rt.ctx.features['shader-f16']) {
      throw new Error('f16 weights need the shader-f16 feature, which this GPU adapter lacks; load the model with f32, int8 or int4 weights');
    }
  }

  /** Bytes of weights uploaded so far. */
  get gpuBytes(): number {
    return this.bytes;
  }

  has(name: string): boolean {
    return this.file.has(name);
  }

  /** A checkpoint tensor's values on the host, as f32 (merging an adapter into a quantized layer). */
  hostF32(name: string): Float32Array {
    return this.file.float32(name);
  }

  /** An f32 tensor with the expected shape, uploaded on first use. */
  tensor(name: string, shape: readonly number[]): Tensor {
    const cached = this.uploaded.get(name);
    if (cached) return cached;
    const info = this.file.info(name);
    if (!fitsShape(info.shape, shape)) {
      throw new SafetensorsError(this.file.file, `tensor ${name} is [${info.shape.join(',')}] but the config implies [${shape.join(',')}]`);
    }
    const t = this.keep(this.rt.upload(this.file.float32(name), shape, name));
    this.uploaded.set(name, t);
    this.bytes += shape.reduce((a, d) => a * d, 4);
    return t;
  }

  /** An HF Linear (weight [n, k], optional bias [n]) under `prefix`. */
  linear(prefix: string, n: number, k: number, hasBias: boolean): Linear {
    const bias = hasBias ? this.tensor(`${prefix}.bias`, [n]) : null;
    const dtype = this.options.dtype ?? 'f32';
    const group = dtype === 'int8' || dtype === 'int4' ? groupFor(k, this.options.groupSize ?? 32) : null;
    if (dtype === 'f32' || (dtype !== 'f16' && group === null)) return { n, k, bias, weight: { kind: 'f32', w: this.tensor(`${prefix}.weight`, [n, k]) } };
    const name = `${prefix}.weight`;
    const info = this.file.info(name);
    if (!fitsShape(info.shape, [n, k])) throw new SafetensorsError(this.file.file, `tensor ${name} is [${info.shape.join(',')}] but the config implies [${n},${k}]`);
    if (group === null) {
      // dtype is f16 here: the values rounded once to half precision, two per u32 word.
      const words = packF16(this.file.float32(name));
      const w = this.keep(this.rt.upload(words, [words.length], `${name}.f16`));
      this.bytes += words.byteLength;
      return { n, k, bias, weight: { kind: 'f16', w } };
    }
    const bits: QuantBits = dtype === 'int8' ? 8 : 4;
    const q = quantize(this.file.float32(name), n, k, bits, group);
    const packed = this.keep(this.rt.upload(q.packed, [n, q.packed.length / n], `${name}.q${bits}`));
    const scales = this.keep(this.rt.upload(q.scales, [n, k / group], `${name}.scales`));
    this.bytes += q.packed.byteLength + q.scales.byteLength;
    return { n, k, bias, weight: { kind: 'quant', bits, groupSize: group, packed, scales } };
  }

  /** A small tensor the model needs besides its checkpoint (e.g. an unused mask slot), released with the weights. */
  constant(data: Int32Array | Float32Array, shape: readonly number[], label: string): Tensor {
    return this.keep(this.rt.upload(data, shape, label));
  }

  /** Gives every buffer back to the runtime; the weights must not be used again. */
  release(): void {
    for (const t of this.owned) this.rt.release(t);
    this.owned.length = 0;
    this.uploaded.clear();
    this.bytes = 0;
  }

  private keep(t: Tensor): Tensor {
    this.owned.push(t);
    return t;
  }
}
