/** CPU twin of kernels/im2col.wgsl: NCHW pixels to the patch matrix of a stride-P, kernel-P convolution. */
import { im2colShape, type Im2colParams } from '../kernels/im2col';

export function im2colRef(pixels: ArrayLike<number>, p: Im2colParams): Float64Array {
  const [rows, cols] = im2colShape(p);
  const out = new Float64Array(rows * cols);
  const gridH = Math.floor(p.height / p.patch);
  const gridW = Math.floor(p.width / p.patch);
  let o = 0;
  for (let b = 0; b < p.batch; b++) {
    for (let gy = 0; gy < gridH; gy++) {
      for (let gx = 0; gx < gridW; gx++) {
        for (let ci = 0; ci < p.channels; ci++) {
          for (let ky = 0; ky < p.patch; ky++) {
            const rowStart = ((b * p.channels + ci) * p.height + gy * p.patch + ky) * p.width + gx * p.patch;
            for (let kx = 0; kx < p.patch; kx++) out[o++] = pixels[rowStart + kx] as number;
          }
        }
      }
    }
  }
  return out;
}
