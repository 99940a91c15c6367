/**
 * Re-reading a region of a page the person drew: the page image with only
 * the region's pixels kept is read by the worker, and the lines found replace
 * the page's lines whose centres lie in the region.
 */
import type { PageResult, OcrImageInput } from '../worker/api';

type Line = PageResult['lines'][number];
type Box = Line['box'];

/**
 * The page image with everything outside the region painted white, at the
 * image's own size, and how many image pixels one page pixel spans. The page
 * keeps its size so the detector sees the region's text at the scale it saw
 * the page at: a cut-out strip would be scaled up much more, and at that size
 * the detector splits a line into its words.
 */
export async function regionPixels(url: string, page: Pick<PageResult, 'width' | 'height'>, box: Box): Promise<{ image: OcrImageInput; scale: number }> {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const scale = bitmap.width / page.width;
  const { width, height } = bitmap;
  const sx = Math.max(0, Math.floor(box.x * scale));
  const sy = Math.max(0, Math.floor(box.y * scale));
  const sw = Math.max(1, Math.min(width - sx, Math.ceil(box.width * scale)));
  const sh = Math.max(1, Math.min(height - sy, Math.ceil(box.height * scale)));
  const ctx = new OffscreenCanvas(width, height).getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, sx, sy, sw, sh, sx, sy, sw, sh);
  bitmap.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  return { image: { width, height, data }, scale };
}

const centre = (b: Box) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });
const inside = (p: { x: number; y: number }, r: Box) => p.x >= r.x && p.x <= r.x + r.width && p.y >= r.y && p.y <= r.y + r.height;

/** Rows top to bottom, left to right within a row (two lines share a row when their centres are within half the shorter height). */
function byReading(a: Line, b: Line): number {
  const dy = centre(a.box).y - centre(b.box).y;
  if (Math.abs(dy) < Math.min(a.box.height, b.box.height) / 2) return a.box.x - b.box.x;
  return dy;
}

/**
 * The page with the region's lines in place of the old ones there. `found`
 * are in pixels of the page image, `scale` image pixels per page pixel.
 */
export function mergeRegion(page: PageResult, region: Box, found: readonly Line[], scale: number): PageResult {
  const moved = found.map((l) => ({ ...l, box: { x: l.box.x / scale, y: l.box.y / scale, width: l.box.width / scale, height: l.box.height / scale } }));
  const kept = page.lines.filter((l) => !inside(centre(l.box), region));
  return { ...page, lines: [...kept, ...moved].sort(byReading) };
}
