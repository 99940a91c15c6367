import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/data/png';
import { looksLikeSvg, rasterImageType, rasterSize } from '../../src/documents/file-kind';

const bytes = (...parts: (number[] | string)[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const le16 = (v: number) => [v & 0xff, v >> 8];
const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
const be16 = (v: number) => [v >> 8, v & 0xff];

const png = encodePng({ width: 7, height: 3, data: new Uint8Array(7 * 3 * 3).fill(90) });
const gif = bytes('GIF89a', le16(320), le16(200), [0, 0, 0]);
const bmp = bytes('BM', le32(0), le32(0), le32(54), le32(40), le32(640), le32(-480), [1, 0, 24, 0], le32(0));
const webpLossy = bytes('RIFF', le32(30), 'WEBP', 'VP8 ', le32(10), [0, 0, 0, 0x9d, 0x01, 0x2a], le16(1024), le16(768));
// VP8L: signature 0x2f, then width-1 and height-1 in 14 bits each.
const webpLossless = bytes('RIFF', le32(30), 'WEBP', 'VP8L', le32(10), [0x2f], le32(((300 - 1) | ((150 - 1) << 14)) >>> 0));
const webpExtended = bytes('RIFF', le32(30), 'WEBP', 'VP8X', le32(10), [0, 0, 0, 0], [0xff, 0x3f, 0x00], [0x1f, 0x4e, 0x00]);

/** A JPEG's first segments: an optional EXIF APP1 carrying an orientation, then a baseline frame header. */
function jpeg(width: number, height: number, orientation?: number): Uint8Array {
  const exif = orientation
    ? (() => {
        const tiff = [...bytes('MM'), 0, 42, 0, 0, 0, 8, ...be16(1), ...be16(0x0112), ...be16(3), 0, 0, 0, 1, ...be16(orientation), 0, 0, 0, 0, 0, 0];
        const body = [...bytes('Exif'), 0, 0, ...tiff];
        return [0xff, 0xe1, ...be16(body.length + 2), ...body];
      })()
    : [];
  const app0 = [0xff, 0xe0, ...be16(16), ...bytes('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof = [0xff, 0xc0, ...be16(17), 8, ...be16(height), ...be16(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...exif, ...sof, 0xff, 0xd9]);
}

const SVG = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>';

describe('the raster check', () => {
  it('types PNG, JPEG, WebP, GIF and BMP by their first bytes', () => {
    expect(rasterImageType(png)).toBe('image/png');
    expect(rasterImageType(jpeg(10, 10))).toBe('image/jpeg');
    expect(rasterImageType(webpLossy)).toBe('image/webp');
    expect(rasterImageType(gif)).toBe('image/gif');
    expect(rasterImageType(bmp)).toBe('image/bmp');
  });

  it('refuses SVG however it is named, and other documents, and recognises the SVG', () => {
    const svg = new TextEncoder().encode(SVG);
    expect(rasterImageType(svg)).toBeNull();
    expect(looksLikeSvg(svg)).toBe(true);
    expect(looksLikeSvg(new TextEncoder().encode('\uFEFF  <svg width="4"/>'))).toBe(true);
    expect(rasterImageType(new TextEncoder().encode('<!doctype html><html></html>'))).toBeNull();
    expect(looksLikeSvg(new TextEncoder().encode('<!doctype html><html></html>'))).toBe(false);
    expect(rasterImageType(new TextEncoder().encode('%PDF-1.7\n'))).toBeNull();
    expect(rasterImageType(new Uint8Array(0))).toBeNull();
    // A PNG signature cut short is not a PNG.
    expect(rasterImageType(Uint8Array.from([137, 80, 78, 71, 1, 2, 3]))).toBeNull();
  });
});

describe('the size a header declares', () => {
  it('reads every raster format without decoding it', () => {
    expect(rasterSize(png)).toEqual({ width: 7, height: 3 });
    expect(rasterSize(gif)).toEqual({ width: 320, height: 200 });
    expect(rasterSize(bmp)).toEqual({ width: 640, height: 480 });
    expect(rasterSize(webpLossy)).toEqual({ width: 1024, height: 768 });
    expect(rasterSize(webpLossless)).toEqual({ width: 300, height: 150 });
    expect(rasterSize(webpExtended)).toEqual({ width: 16384, height: 20000 });
    expect(rasterSize(jpeg(20000, 15000))).toEqual({ width: 20000, height: 15000 });
  });

  it("swaps a JPEG's sides when its EXIF orientation turns it a quarter, as the decoder does", () => {
    expect(rasterSize(jpeg(4000, 3000, 1))).toEqual({ width: 4000, height: 3000 });
    expect(rasterSize(jpeg(4000, 3000, 3))).toEqual({ width: 4000, height: 3000 });
    expect(rasterSize(jpeg(4000, 3000, 6))).toEqual({ width: 3000, height: 4000 });
    expect(rasterSize(jpeg(4000, 3000, 8))).toEqual({ width: 3000, height: 4000 });
  });

  it('gives null for a header it cannot read', () => {
    expect(rasterSize(png.subarray(0, 20))).toBeNull();
    expect(rasterSize(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 1]))).toBeNull();
    expect(rasterSize(new TextEncoder().encode(SVG))).toBeNull();
  });
});
