/**
 * Lines in the order a person reads them: rows top to bottom, and within a
 * row left to right. Two lines share a row when their vertical extents
 * overlap by at least half of the shorter one, so a slightly taller word or a
 * small baseline drift does not start a new row, but stacked lines never merge.
 */
import type { Box } from './types';

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
