/**
 * Picture files -> pixels, with the browser's own decoders (works in a
 * worker). Only raster files are decoded, at a bounded size read from their
 * header first (src/models/image-decode.ts), so a huge scan never becomes a
 * full-size bitmap.
 */
import { decodeBoundedBitmap, ImageDecodeError } from '../models/image-decode';
import { OcrError } from '../ocr/errors';
import type { RgbaImage } from '../ocr/types';

/** Larger photos are scaled down: OCR gains nothing from more than this many pixels on the long side. */
export const MAX_IMAGE_SIDE = 4096;

export async function decodeImageFile(bytes: Uint8Array, _claimed: string, name: string): Promise<{ image: RgbaImage; canvas: OffscreenCanvas }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await decodeBoundedBitmap(bytes, name, MAX_IMAGE_SIDE);
  } catch (err) {
    if (err instanceof ImageDecodeError) throw new OcrError('unsupported-file', err.message);
    throw err;
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('OffscreenCanvas 2D is not available');
  // Transparent areas read as white paper, not black.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  return { image: { width, height, data }, canvas };
}
