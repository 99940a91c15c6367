/**
 * The tile arithmetic LLaVA-NeXT's AnyRes (anyres.ts) and Idefics3's image
 * splitting (idefics3-processing.ts) share: both cut a channel-major image
 * [3, H, W] into a rows x cols grid of equal tiles, row-major, beside a
 * global view. Where they differ (which grid, padding or not, the global
 * view first or last, how it is resized) stays in each family's file.
 */

/** The [3, h, w] window at (top, left) of a [3, height, width] image, copied. */
export function cropChw(src: Float32Array, height: number, width: number, top: number, left: number, h: number, w: number): Float32Array {
  if (top < 0 || left < 0 || top + h > height || left + w > width) {
    throw new RangeError(`a ${h}x${w} window at (${top}, ${left}) does not fit a ${height}x${width} image`);
  }
  const out = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const from = (c * height + top + y) * width + left;
      out.set(src.subarray(from, from + w), (c * h + y) * w);
    }
  }
  return out;
}

/** A [3, height, width] image cut into rows x cols tiles of [3, tileH, tileW], row-major. */
export function gridTiles(src: Float32Array, height: number, width: number, rows: number, cols: number, tileH: number, tileW: number): Float32Array[] {
  const tiles: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) tiles.push(cropChw(src, height, width, r * tileH, c * tileW, tileH, tileW));
  }
  return tiles;
}
