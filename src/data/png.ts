/**
 * PNG files for the rasters: 8-bit RGB (colour type 2) and 8-bit grey (type 0,
 * for per-pixel label maps), no interlace, filter type 0 on every row, one IDAT
 * chunk. The decoder reads those two types from any encoder (one IDAT or many,
 * every deflate block type, all five row filters) and checks every CRC.
 */
import { crc32 } from './checksums';
import { zlibCompress, zlibDecompress } from './zlib';
import type { Raster } from './raster';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10] as const;

export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out, 4, 8 + body.length));
  return out;
}

function encode(width: number, height: number, channels: 1 | 3, pixels: Uint8Array): Uint8Array {
  if (pixels.length !== width * height * channels) throw new Error('png: pixel buffer size does not match the image');
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = channels === 3 ? 2 : 0;
  const stride = width * channels;
  const filtered = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) filtered.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibCompress(filtered)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function encodePng(r: Raster): Uint8Array {
  return encode(r.width, r.height, 3, r.data);
}

/** A one-channel image, e.g. a label map where each value names an object. */
export function encodeGreyPng(width: number, height: number, values: Uint8Array): Uint8Array {
  return encode(width, height, 1, values);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** The filter's prediction from left (a), up (b) and up-left (c) neighbours. */
function predict(type: number, a: number, b: number, c: number, row: number): number {
  switch (type) {
    case 0:
      return 0;
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return (a + b) >>> 1;
    case 4:
      return paeth(a, b, c);
    default:
      throw new Error(`png: unknown filter type ${type} on row ${row}`);
  }
}

/** Undoes the per-row filters in place into a tightly packed buffer. */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  if (raw.length !== height * (stride + 1)) throw new Error('png: image data has the wrong length');
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)] as number;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x] as number;
      const a = x >= bpp ? (out[y * stride + x - bpp] as number) : 0;
      const b = y > 0 ? (out[(y - 1) * stride + x] as number) : 0;
      const c = x >= bpp && y > 0 ? (out[(y - 1) * stride + x - bpp] as number) : 0;
      out[y * stride + x] = (v + predict(type, a, b, c, y)) & 0xff;
    }
  }
  return out;
}

interface Chunk {
  readonly type: string;
  readonly body: Uint8Array;
}

function readChunks(bytes: Uint8Array): Chunk[] {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error('png: bad signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  for (let at = 8; at < bytes.length; ) {
    if (at + 12 > bytes.length) throw new Error('png: truncated chunk');
    const len = view.getUint32(at);
    if (at + 12 + len > bytes.length) throw new Error('png: truncated chunk');
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (crc32(bytes, at + 4, at + 8 + len) !== view.getUint32(at + 8 + len)) throw new Error(`png: CRC mismatch in ${type}`);
    chunks.push({ type, body: bytes.subarray(at + 8, at + 8 + len) });
    at += 12 + len;
    if (type === 'IEND') break;
  }
  return chunks;
}

export function decodePng(bytes: Uint8Array): DecodedPng {
  const chunks = readChunks(bytes);
  const ihdr = chunks[0];
  if (!ihdr || ihdr.type !== 'IHDR' || ihdr.body.length !== 13) throw new Error('png: IHDR must come first');
  const hv = new DataView(ihdr.body.buffer, ihdr.body.byteOffset, 13);
  const width = hv.getUint32(0);
  const height = hv.getUint32(4);
  const [depth, colourType, , , interlace] = ihdr.body.subarray(8);
  if (depth !== 8 || (colourType !== 2 && colourType !== 0) || interlace !== 0) {
    throw new Error(`png: only 8-bit RGB or grey without interlace is supported (depth ${depth}, type ${colourType})`);
  }
  const channels = colourType === 2 ? 3 : 1;
  const idat = chunks.filter((c) => c.type === 'IDAT');
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.body.length, 0));
  let at = 0;
  for (const c of idat) {
    joined.set(c.body, at);
    at += c.body.length;
  }
  const data = unfilter(zlibDecompress(joined), height, width * channels, channels);
  return { width, height, channels, data };
}

/** Decodes an RGB PNG into a raster; throws for grey images. */
export function decodePngRaster(bytes: Uint8Array): Raster {
  const d = decodePng(bytes);
  if (d.channels !== 3) throw new Error('png: expected an RGB image');
  return { width: d.width, height: d.height, data: d.data };
}
