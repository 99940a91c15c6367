import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adler32, crc32 } from '../../src/data/checksums';
import { decodePng, decodePngRaster, encodeGreyPng, encodePng } from '../../src/data/png';
import { Rng } from '../../src/data/random';
import { createRaster, fillRect } from '../../src/data/raster';
import { taskSamples } from '../../src/data/split';
import { zlibCompress, zlibDecompress } from '../../src/data/zlib';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function randomBytes(rng: Rng, n: number, alphabet: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(0, alphabet - 1));
}

describe('checksums', () => {
  it('match the published check values', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(adler32(ascii('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(new Uint8Array(0))).toBe(1);
  });

  it('keep Adler-32 exact past the 5552-byte reduction block', () => {
    const big = new Uint8Array(100_000).fill(255);
    // Written out from the definition, with a reduction after every byte.
    let a = 1;
    let b = 0;
    for (const v of big) {
      a = (a + v) % 65521;
      b = (b + a) % 65521;
    }
    expect(adler32(big)).toBe(((b << 16) | a) >>> 0);
  });
});

describe('zlib', () => {
  const rng = new Rng(42);
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(7)],
    ['flat', new Uint8Array(70_000).fill(200)],
    ['noise', randomBytes(rng, 20_000, 256)],
    ['few symbols', randomBytes(rng, 50_000, 3)],
    ['long-range repeats', (() => {
      const unit = randomBytes(rng, 1000, 256);
      const d = new Uint8Array(40_000);
      for (let i = 0; i < d.length; i++) d[i] = unit[i % 997] as number;
      return d;
    })()],
  ];

  it.each(inputs)('round-trips %s through our pair and through Node zlib', (_, data) => {
    const z = zlibCompress(data);
    expect(Buffer.from(zlibDecompress(z)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(inflateSync(z)).equals(Buffer.from(data))).toBe(true);
  });

  it('shrinks flat data and reads stored blocks that zlib writes', () => {
    expect(zlibCompress(new Uint8Array(70_000).fill(200)).length).toBeLessThan(1000);
    const data = randomBytes(new Rng(3), 100_000, 256);
    const stored = deflateSync(data, { level: 0 });
    expect(Buffer.from(zlibDecompress(stored)).equals(Buffer.from(data))).toBe(true);
  });

  it('reads dynamic-Huffman blocks that zlib writes', () => {
    const data = randomBytes(new Rng(4), 5000, 4);
    const dynamic = deflateSync(data, { level: 9 });
    expect(firstBlockType(dynamic)).toBe(2);
    expect(Buffer.from(zlibDecompress(dynamic)).equals(Buffer.from(data))).toBe(true);
  });

  it('refuses corrupted checksums and streams with a reason', () => {
    const z = zlibCompress(ascii('hello hello hello'));
    z[z.length - 1] = (z[z.length - 1] as number) ^ 1;
    expect(() => zlibDecompress(z)).toThrow(/Adler-32/);
    expect(() => zlibDecompress(Uint8Array.of(0x78, 0x9c, 0xff, 0xff, 0, 0, 0, 1))).toThrow(/^zlib: /);
  });
});

/** BTYPE of the first deflate block of a zlib stream: 0 stored, 1 fixed, 2 dynamic Huffman. */
function firstBlockType(z: Uint8Array): number {
  return ((z[2] as number) >> 1) & 3;
}

interface ForeignOptions {
  /** Node zlib's level: 0 writes stored blocks, 9 dynamic-Huffman ones. */
  readonly level: number;
  /** IDAT bodies at most this long, as encoders that stream their output write them. */
  readonly idatSize: number;
}

/**
 * An RGB PNG written the way other encoders write one, not ours: a chosen filter
 * on each row (so unfiltering is tested against the spec), Node's zlib instead of
 * fflate, the data split over several IDAT chunks, and an ancillary chunk.
 */
function foreignPng(pixels: Uint8Array, width: number, height: number, o: ForeignOptions): Uint8Array {
  const stride = width * 3;
  const rows: number[] = [];
  const at = (x: number, y: number): number => (x < 0 || y < 0 ? 0 : (pixels[y * stride + x] as number));
  for (let y = 0; y < height; y++) {
    const type = y % 5;
    rows.push(type);
    for (let x = 0; x < stride; x++) {
      const a = at(x - 3, y);
      const b = at(x, y - 1);
      const c = at(x - 3, y - 1);
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][type] as number;
      rows.push((at(x, y) - pred) & 0xff);
    }
  }
  const chunk = (type: string, body: Uint8Array): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const z = deflateSync(Buffer.from(rows), { level: o.level });
  const idats: Buffer[] = [];
  for (let at = 0; at < z.length; at += o.idatSize) idats.push(chunk('IDAT', z.subarray(at, at + o.idatSize)));
  const text = chunk('tEXt', Buffer.from('Software\0another encoder', 'latin1'));
  return Buffer.concat([sig, chunk('IHDR', ihdr), text, ...idats, chunk('IEND', new Uint8Array(0))]);
}

describe('PNG', () => {
  it('round-trips RGB rasters of odd sizes exactly', () => {
    const rng = new Rng(9);
    for (const [w, h] of [[1, 1], [3, 7], [64, 64], [191, 5]] as const) {
      const r = createRaster(w, h, [10, 200, 30]);
      for (let i = 0; i < r.data.length; i += 7) r.data[i] = rng.int(0, 255);
      const back = decodePngRaster(encodePng(r));
      expect([back.width, back.height]).toEqual([w, h]);
      expect(Buffer.from(back.data).equals(Buffer.from(r.data))).toBe(true);
    }
  });

  it('round-trips grey label maps', () => {
    const values = Uint8Array.from({ length: 30 * 20 }, (_, i) => i % 6);
    const d = decodePng(encodeGreyPng(30, 20, values));
    expect(d.channels).toBe(1);
    expect(Array.from(d.data)).toEqual(Array.from(values));
  });

  it('is deterministic and starts with the PNG signature and IHDR', () => {
    const r = createRaster(16, 16, [1, 2, 3]);
    fillRect(r, 4, 4, 6, 6, [250, 0, 0]);
    const a = encodePng(r);
    expect(Buffer.from(a).equals(Buffer.from(encodePng(r)))).toBe(true);
    expect(Array.from(a.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(Buffer.from(a.subarray(12, 16)).toString('latin1')).toBe('IHDR');
  });

  it('undoes all five row filters', () => {
    const rng = new Rng(11);
    const pixels = Uint8Array.from({ length: 9 * 10 * 3 }, () => rng.int(0, 255));
    const d = decodePng(foreignPng(pixels, 9, 10, { level: 0, idatSize: 1 << 20 }));
    expect(Array.from(d.data)).toEqual(Array.from(pixels));
  });

  it('reads a generated image re-saved by another encoder with dynamic-Huffman blocks', () => {
    const sample = taskSamples('describe', 1, 5).next().value;
    const raster = sample?.images[0]?.raster;
    if (!raster) throw new Error('the generator gave no image');
    const png = foreignPng(raster.data, raster.width, raster.height, { level: 9, idatSize: 512 });
    const firstIdat = Buffer.from(png).indexOf('IDAT', 0, 'latin1');
    expect(firstBlockType(png.subarray(firstIdat + 4))).toBe(2);
    const back = decodePngRaster(png);
    expect([back.width, back.height]).toEqual([raster.width, raster.height]);
    expect(Buffer.from(back.data).equals(Buffer.from(raster.data))).toBe(true);
  });

  it('rejects a file whose chunk CRC does not match', () => {
    const png = encodePng(createRaster(4, 4, [9, 9, 9]));
    png[20] = (png[20] as number) ^ 0xff;
    expect(() => decodePng(png)).toThrow(/CRC mismatch in IHDR/);
  });
});
