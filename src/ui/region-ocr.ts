/**
 * Re-reading a region of a page the person drew: its pixels are cut from the
 * page image at the image's own resolution (a region is small, and the OCR
 * scales small inputs up for its detector), read by the worker, and the lines
 * found replace the page's lines whose centres lie in the region.
 */
import type { PageResult, OcrImageInput } from '../worker/api';

type Line = PageResult['lines'][number];
type Box = Line['box'];

/** The region's pixels, cut from the page image at `url`, and how many image pixels one page pixel spans. */
export async function regionPixels(url: string, page: Pick<PageResult, 'width' | 'height'>, box: Box): Promise<{ image: OcrImageInput; scale: number }> {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const scale = bitmap.width / page.width;
  const sx = Math.max(0, Math.floor(box.x * scale));
  const sy = Math.max(0, Math.floor(box.y * scale));
  const width = Math.max(1, Math.min(bitmap.width - sx, Math.ceil(box.width * scale)));
  const height = Math.max(1, Math.min(bitmap.height - sy, Math.ceil(box.height * scale)));
  const ctx = new OffscreenCanvas(width, height).getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, sx, sy, width, height, 0, 0, width, height);
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
 * are in the region's pixels at `scale` image pixels per page pixel.
 */
export function mergeRegion(page: PageResult, region: Box, found: readonly Line[], scale: number): PageResult {
  const moved = found.map((l) => ({ ...l, box: { x: region.x + l.box.x / scale, y: region.y + l.box.y / scale, width: l.box.width / scale, height: l.box.height / scale } }));
  const kept = page.lines.filter((l) => !inside(centre(l.box), region));
  return { ...page, lines: [...kept, ...moved].sort(byReading) };
}
