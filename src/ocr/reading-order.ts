/**
 * Lines in the order a person reads them: rows top to bottom, and within a
 * row left to right. Two lines share a row when their vertical extents
 * overlap by at least half of the shorter one, so a slightly taller word or a
 * small baseline drift does not start a new row, but stacked lines never merge.
 */
import type { Box, Quad } from './types';

const ROW_OVERLAP = 0.5;

function verticalOverlap(a: Box, b: Box): number {
  const top = Math.max(a.y, b.y);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  return Math.max(0, bottom - top) / Math.max(1e-6, Math.min(a.height, b.height));
}

/** Groups items into rows (each sorted left to right), rows sorted top to bottom. */
export function groupRows<T extends { box: Box }>(items: readonly T[]): T[][] {
  const byTop = [...items].sort((a, b) => a.box.y + a.box.height / 2 - (b.box.y + b.box.height / 2));
  const rows: { items: T[]; box: Box }[] = [];
  for (const item of byTop) {
    // Rows keep their first line's extent: growing it with every member would
    // let a chain of slightly offset lines swallow the next row.
    const row = rows.find((r) => verticalOverlap(r.box, item.box) >= ROW_OVERLAP);
    if (row) row.items.push(item);
    else rows.push({ items: [item], box: item.box });
  }
  rows.sort((a, b) => a.box.y + a.box.height / 2 - (b.box.y + b.box.height / 2));
  return rows.map((r) => r.items.sort((a, b) => a.box.x - b.box.x));
}

export function readingOrder<T extends { box: Box }>(items: readonly T[]): T[] {
  return groupRows(items).flat();
}

/** Direction of a quad's top edge, radians (y down). */
const quadAngle = (q: Quad) => Math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0]);

/**
 * Reading order of lines on a page that may be rotated a little (a skewed
 * scan, a photo taken at an angle): the lines are ordered by their boxes in a
 * frame turned back by the median angle of their quads, where rows are level
 * again; on a skewed page the axis-aligned boxes of neighbouring lines overlap
 * and would be taken for one row.
 */
export function readingOrderOfQuads<T extends { box: Box; quad: Quad }>(items: readonly T[]): T[] {
  const angles = items.map((i) => quadAngle(i.quad)).sort((a, b) => a - b);
  const angle = angles[Math.floor(angles.length / 2)] ?? 0;
  if (Math.abs(angle) < 0.2 * (Math.PI / 180)) return readingOrder(items);
  const [c, s] = [Math.cos(-angle), Math.sin(-angle)];
  const level = items.map((item) => {
    const pts = item.quad.map(([x, y]) => [x * c - y * s, x * s + y * c] as const);
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const x = Math.min(...xs);
    const y = Math.min(...ys);
    return { item, box: { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y } };
  });
  return readingOrder(level).map((l) => l.item);
}
