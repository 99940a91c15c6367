/**
 * What a dropped file is, judged by its first bytes: names and MIME types
 * from the OS are often wrong or missing. Also the raster check every image
 * passes before anything keeps or decodes it, and the pixel size its header
 * declares, read without decoding.
 */
export type FileKind = 'pdf' | 'png' | 'jpeg' | 'webp' | 'unknown';

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((v, i) => b[at + i] === v);

export function sniffFileKind(bytes: Uint8Array): FileKind {
  // "%PDF" may follow a little junk; readers accept it within the first KiB.
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  if (head.includes('%PDF-')) return 'pdf';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return 'unknown';
}

export const MIME: Record<Exclude<FileKind, 'unknown'>, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** The raster formats the model pipeline decodes. SVG is not one: it is a document that can run script. */
export type RasterType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif' | 'image/bmp';
export const RASTER_NAMES = 'PNG, JPEG, WebP, GIF or BMP';

/** The raster type of encoded image bytes, from their signature; null for anything else (SVG, HTML, PDF...). */
export function rasterImageType(bytes: Uint8Array): RasterType | null {
  // Signatures at byte 0 only: a PDF's "%PDF-" somewhere in the first KiB does not make it a picture, nor the reverse.
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return 'image/gif';
  if (startsWith(bytes, [0x42, 0x4d]) && bytes.length >= 26) return 'image/bmp';
  return null;
}

/** Whether bytes read as an SVG document (XML text with an <svg> element near the start). */
export function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = new TextDecoder('utf-8').decode(bytes.subarray(0, 4096)).replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<') && /<svg[\s>/]/i.test(head);
}

export interface PixelSize {
  width: number;
  height: number;
}

const u16be = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u16le = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, at: number) => u16be(b, at) * 0x10000 + u16be(b, at + 2);
const i32le = (b: Uint8Array, at: number) => u16le(b, at) | (u16le(b, at + 2) << 16);

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are not frames. */
const isJpegFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** EXIF orientations 5-8 turn the picture a quarter: the decoder's output swaps width and height. */
function exifSwapsSides(b: Uint8Array, at: number, end: number): boolean {
  if (!startsWith(b, [0x45, 0x78, 0x69, 0x66, 0, 0], at)) return false;
  const tiff = at + 6;
  const le = b[tiff] === 0x49;
  const r16 = (p: number) => (le ? u16le(b, p) : u16be(b, p));
  const r32 = (p: number) => (le ? (u16le(b, p) + u16le(b, p + 2) * 0x10000) : u32be(b, p));
  const ifd = tiff + r32(tiff + 4);
  const count = ifd + 2 <= end ? r16(ifd) : 0;
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) break;
    if (r16(entry) === 0x0112) return r16(entry + 8) >= 5 && r16(entry + 8) <= 8;
  }
  return false;
}

function jpegSize(b: Uint8Array): PixelSize | null {
  let at = 2;
  let swap = false;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1] ?? 0;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      at += 2; // no length
      continue;
    }
    const length = u16be(b, at + 2);
    if (length < 2) return null;
    if (marker === 0xe1) swap ||= exifSwapsSides(b, at + 4, Math.min(b.length, at + 2 + length));
    if (isJpegFrame(marker)) {
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      return swap ? { width: height, height: width } : { width, height };
    }
    at += 2 + length;
  }
  return null;
}

function webpSize(b: Uint8Array): PixelSize | null {
  const chunk = new TextDecoder('latin1').decode(b.subarray(12, 16));
  if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = i32le(b, 21) >>> 0;
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ' && startsWith(b, [0x9d, 0x01, 0x2a], 23)) return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  return null;
}

/**
 * The pixel size a raster file's header declares, as the browser will decode
 * it (a JPEG's EXIF quarter turn applied); null when the header cannot be read.
 */
export function rasterSize(bytes: Uint8Array): PixelSize | null {
  const b = bytes;
  switch (rasterImageType(b)) {
    case 'image/png':
      return b.length >= 24 ? { width: u32be(b, 16), height: u32be(b, 20) } : null;
    case 'image/gif':
      return b.length >= 10 ? { width: u16le(b, 6), height: u16le(b, 8) } : null;
    case 'image/bmp':
      // BITMAPCOREHEADER (12 bytes) has 16-bit sides; the later headers 32-bit, a negative height meaning top-down.
      return i32le(b, 14) === 12 ? { width: u16le(b, 18), height: u16le(b, 20) } : { width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
    case 'image/webp':
      return webpSize(b);
    case 'image/jpeg':
      return jpegSize(b);
    default:
      return null;
  }
}
