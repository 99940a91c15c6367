import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/data/png';
import { decodePlan, ImageDecodeError, MAX_DECODED_SIDE, MAX_SOURCE_PIXELS, scaledSize } from '../../src/models/image-decode';

/** A PNG whose header declares width x height; only the header is read, so the pixels need not be there. */
function pngHeader(width: number, height: number): Uint8Array {
  const b = encodePng({ width: 1, height: 1, data: new Uint8Array(3) });
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return b;
}

describe('decodePlan', () => {
  it('decodes a small picture at its own size, as the type its bytes say', () => {
    expect(decodePlan(pngHeader(640, 480), 'a.png')).toEqual({ type: 'image/png', source: { width: 640, height: 480 }, target: null });
  });

  it('decodes a large photo straight to the bounded size, keeping its shape', () => {
    const plan = decodePlan(pngHeader(12000, 9000), 'big.png');
    expect(plan.target).toEqual({ width: MAX_DECODED_SIDE, height: 1536 });
    expect(decodePlan(pngHeader(12000, 9000), 'big.png', 4096).target).toEqual({ width: 4096, height: 3072 });
    expect(decodePlan(pngHeader(100, 30000), 'tall.png').target).toEqual({ width: 7, height: MAX_DECODED_SIDE });
  });

  it('refuses a 20000 x 20000 image from its header, before any decoding', () => {
    expect(20000 * 20000).toBeGreaterThan(MAX_SOURCE_PIXELS);
    expect(() => decodePlan(pngHeader(20000, 20000), 'huge.png')).toThrow(/huge.png is 20000x20000 pixels \(400 megapixels\).*scale it down/);
  });

  it('refuses SVG, other documents, empty files and zero-sized headers with their reason', () => {
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expect(() => decodePlan(svg, 'x.svg')).toThrow(ImageDecodeError);
    expect(() => decodePlan(svg, 'x.svg')).toThrow('x.svg is an SVG drawing');
    expect(() => decodePlan(new TextEncoder().encode('<html>'), 'page.png')).toThrow('page.png could not be decoded');
    expect(() => decodePlan(new Uint8Array(0), 'empty.png')).toThrow('empty.png is empty');
    expect(() => decodePlan(pngHeader(0, 10), 'zero.png')).toThrow('zero.png is 0x10 pixels');
  });

  it('leaves the size to the decoder when the header cannot be read', () => {
    expect(decodePlan(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]), 'cut.png')).toEqual({ type: 'image/png', source: null, target: null });
  });
});

describe('scaledSize', () => {
  it('bounds the long side and never goes below one pixel', () => {
    expect(scaledSize(4096, 1)).toEqual({ width: 2048, height: 1 });
    expect(scaledSize(100, 50)).toEqual({ width: 100, height: 50 });
  });
});
