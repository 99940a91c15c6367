/** How large a PDF page is rendered for reading. */

/**
 * A page is never rendered larger than this: a canvas of a poster-sized page
 * (PDF allows 14400 pt a side, 200 inches) at 144 dpi would be 28800 px
 * square, 3.3 GB of RGBA, and the browser fails it with "Out of memory".
 * 8192 px a side and 32 MP (128 MB of pixels) still read 6 pt print on an A0 sheet.
 */
export const MAX_PAGE_SIDE = 8192;
export const MAX_PAGE_PIXELS = 32 * 1024 * 1024;

/**
 * The scale to render a page of `width` x `height` points at: `scale`, or
 * less when the page, its sides rounded to whole pixels, would pass the caps.
 */
export function cappedScale(width: number, height: number, scale: number): number {
  let s = Math.min(scale, MAX_PAGE_SIDE / Math.max(width, height), Math.sqrt(MAX_PAGE_PIXELS / (width * height)));
  const fits = () => Math.round(Math.max(width, height) * s) <= MAX_PAGE_SIDE && Math.round(width * s) * Math.round(height * s) <= MAX_PAGE_PIXELS;
  while (!fits()) s *= 0.999;
  return s;
}
