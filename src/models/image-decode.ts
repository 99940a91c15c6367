/**
 * Encoded image bytes (PNG, JPEG, WebP, GIF, BMP, AVIF...) to RGBA pixels with
 * the browser's own decoder. Large photos are scaled down while decoding, so a
 * 48-megapixel upload never becomes a 190 MB pixel buffer; the model's
 * preprocessor then resizes to its input size anyway.
 */
import type { ImagePixels } from './image-processing';

/** Longest side kept when decoding; far above any model input, far below memory trouble. */
export const MAX_DECODED_SIDE = 2048;

/** An image that cannot be used, with what to do about it. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

export function scaledSize(width: number, height: number, maxSide = MAX_DECODED_SIDE): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export async function decodeImageBytes(bytes: ArrayBuffer, type: string, name = 'the image', maxSide = MAX_DECODED_SIDE): Promise<ImagePixels> {
  if (bytes.byteLength === 0) throw new ImageDecodeError(`${name} is empty (0 bytes); choose another file.`);
  let probe: ImageBitmap;
  try {
    probe = await createImageBitmap(new Blob([bytes], { type }));
  } catch {
    throw new ImageDecodeError(`${name} could not be decoded as an image (${type || 'unknown type'}); it may be corrupt or not an image. Try PNG, JPEG or WebP.`);
  }
  const { width: w0, height: h0 } = probe;
  if (w0 < 1 || h0 < 1) {
    probe.close();
    throw new ImageDecodeError(`${name} is ${w0}x${h0} pixels; an image needs at least one pixel.`);
  }
  const size = scaledSize(w0, h0, maxSide);
  let bitmap = probe;
  if (size.width !== w0 || size.height !== h0) {
    bitmap = await createImageBitmap(probe, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
    probe.close();
  }
  const canvas = new OffscreenCanvas(size.width, size.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new ImageDecodeError('this browser cannot read image pixels (no 2D canvas in workers)');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, size.width, size.height);
  return { width: size.width, height: size.height, data, channels: 4 };
}
