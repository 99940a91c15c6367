/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}),
 * then the raw little-endian tensor bytes. Tensors are read as views into the
 * file's buffer where the dtype allows (f32 at an aligned offset), so a
 * weight is not copied before it goes to the GPU.
 */

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'U8' | 'I8';

const BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, U8: 1, I8: 1 };
/** A header bigger than this is not a real model's; refusing it avoids allocating garbage sizes. */
const MAX_HEADER_BYTES = 100 << 20;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range within the data section. */
  begin: number;
  end: number;
}

/** A malformed file, naming the file and what is wrong with it. */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

export class SafetensorsFile {
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  private readonly dataStart: number;

  constructor(
    private readonly bytes: ArrayBuffer,
    readonly file = 'model.safetensors',
  ) {
    if (bytes.byteLength < 8) throw new SafetensorsError(file, `is ${bytes.byteLength} bytes, too short for a safetensors header`);
    const headerLen = Number(new DataView(bytes).getBigUint64(0, true));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.byteLength) {
      throw new SafetensorsError(file, `declares a ${headerLen}-byte header but the file has ${bytes.byteLength} bytes (truncated or not safetensors)`);
    }
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 8, headerLen)));
    } catch (err) {
      throw new SafetensorsError(file, `header is not valid JSON (${String(err)})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError(file, 'header is not a JSON object');
    this.dataStart = 8 + headerLen;
    const dataLen = bytes.byteLength - this.dataStart;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = raw as Record<string, string>;
        continue;
      }
      tensors.set(name, parseEntry(file, name, raw, dataLen));
    }
    this.tensors = tensors;
    this.metadata = metadata;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(this.file, `has no tensor named ${name}`);
    return t;
  }

  /** Raw bytes of a tensor (a view, no copy). */
  raw(name: string): Uint8Array {
    const t = this.info(name);
    return new Uint8Array(this.bytes, this.dataStart + t.begin, t.end - t.begin);
  }

  /** The tensor as f32, upcasting F16/BF16; a view when the stored data is aligned F32. */
  float32(name: string): Float32Array {
    const t = this.info(name);
    const offset = this.dataStart + t.begin;
    const n = (t.end - t.begin) / BYTES[t.dtype];
    switch (t.dtype) {
      case 'F32':
        return offset % 4 === 0 ? new Float32Array(this.bytes, offset, n) : new Float32Array(this.bytes.slice(offset, offset + n * 4));
      case 'F16':
        return f16ToF32(new DataView(this.bytes, offset, n * 2), n);
      case 'BF16':
        return bf16ToF32(new DataView(this.bytes, offset, n * 2), n);
      default:
        throw new SafetensorsError(this.file, `tensor ${name} is ${t.dtype}, not a float type`);
    }
  }
}

function parseEntry(file: string, name: string, raw: unknown, dataLen: number): TensorInfo {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e !== 'object' || e === null) throw new SafetensorsError(file, `entry ${name} is not an object`);
  const dtype = e.dtype as SafetensorsDType;
  if (!(typeof dtype === 'string' && dtype in BYTES)) throw new SafetensorsError(file, `tensor ${name} has unsupported dtype ${String(e.dtype)} (supported: ${Object.keys(BYTES).join(', ')})`);
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(file, `tensor ${name} has a malformed shape`);
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
    throw new SafetensorsError(file, `tensor ${name} has malformed data_offsets`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = (shape as number[]).reduce((a, d) => a * d, 1) * BYTES[dtype];
  if (end < begin || end > dataLen) throw new SafetensorsError(file, `tensor ${name} lies outside the file (bytes ${begin}..${end} of ${dataLen}); the file may be truncated`);
  if (end - begin !== expected) throw new SafetensorsError(file, `tensor ${name} holds ${end - begin} bytes but its shape [${(shape as number[]).join(',')}] ${dtype} needs ${expected}`);
  return { name, dtype, shape: shape as number[], begin, end };
}

/** IEEE half to single, including subnormals, infinities and NaN. */
export function f16ToF32(view: DataView, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = view.getUint16(i * 2, true);
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** bfloat16 is the top half of an f32. */
export function bf16ToF32(view: DataView, n: number): Float32Array {
  const out = new Float32Array(n);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) u[i] = view.getUint16(i * 2, true) << 16;
  return out;
}

/** Write a safetensors file (tests, adapters saved by the LoRA trainer). F32 only. */
export function writeSafetensors(tensors: Record<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name] as { shape: number[]; data: Float32Array };
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header so the data section starts 8-byte aligned (f32 views need 4).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const d = (tensors[name] as { data: Float32Array }).data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}
