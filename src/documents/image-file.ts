/** PNG, JPEG and WebP files -> pixels, with the browser's own decoders (works in a worker). */
import { OcrError } from '../ocr/errors';
import type { RgbaImage } from '../ocr/types';

/** Larger photos are scaled down: OCR gains nothing from more than this many pixels on the long side. */
export const MAX_IMAGE_SIDE = 4096;

export async function decodeImageFile(bytes: Uint8Array, mime: string, name: string): Promise<{ image: RgbaImage; canvas: OffscreenCanvas }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }));
  } catch {
    throw new OcrError('unsupported-file', `${name} could not be decoded as an image; it may be damaged.`);
  }
  const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('OffscreenCanvas 2D is not available');
  // Transparent areas read as white paper, not black.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  return { image: { width, height, data }, canvas };
}
