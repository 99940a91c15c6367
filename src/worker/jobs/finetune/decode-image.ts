/**
 * A data set's image bytes as pixels: the worker's own decoder where the
 * runtime has createImageBitmap (page, worker), else PNG through our decoder
 * (Node, where the tests and the generated data sets use PNG).
 */
import { decodePngRaster } from '../../../data/png';
import { decodeImageBytes } from '../../../models/image-decode';
import type { ImagePixels } from '../../../models/image-processing';
import { VlmError } from '../../errors';
import type { FinetuneImage } from '../../finetune-api';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

export async function decodeDatasetImage(image: FinetuneImage): Promise<ImagePixels> {
  if (typeof createImageBitmap === 'function') {
    return decodeImageBytes(image.bytes.slice().buffer, image.type, image.path);
  }
  if (PNG_SIGNATURE.every((b, i) => image.bytes[i] === b)) return { ...decodePngRaster(image.bytes), channels: 3 };
  throw new VlmError('bad-image', `${image.path} cannot be decoded here: only PNG images are read outside a browser.`);
}
