/**
 * Plane geometry for text boxes: convex hull, minimum-area rectangle and the
 * polygon measures the detector's box expansion needs.
 */
import type { Point, Quad } from './types';

const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Andrew's monotone chain; counter-clockwise in a y-up frame, no collinear points. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length <= 2) return pts;
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2] as Point, lower[lower.length - 1] as Point, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i] as Point;
    while (upper.length >= 2 && cross(upper[upper.length - 2] as Point, upper[upper.length - 1] as Point, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

export interface RotatedRect {
  cx: number;
  cy: number;
  /** Extent along the direction `angle`. */
  width: number;
  /** Extent across it. */
  height: number;
  /** Radians; the direction of the width axis. */
  angle: number;
}

/**
 * The smallest rectangle holding the points. One side of the optimum lies on
 * a hull edge, so trying each edge direction is exact.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, width: 0, height: 0, angle: 0 };
  let best: RotatedRect | null = null;
  let bestArea = Number.POSITIVE_INFINITY;
  const n = hull.length;
  for (let i = 0; i < Math.max(1, n); i++) {
    const a = hull[i] as Point;
    const b = hull[(i + 1) % n] as Point;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const [ux, uy] = len > 0 ? [(b[0] - a[0]) / len, (b[1] - a[1]) / len] : [1, 0];
    let [minU, maxU, minV, maxV] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      minU = Math.min(minU, u);
      maxU = Math.max(maxU, u);
      minV = Math.min(minV, v);
      maxV = Math.max(maxV, v);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, width: maxU - minU, height: maxV - minV, angle: Math.atan2(uy, ux) };
    }
  }
  return normalizeRect(best as RotatedRect);
}

/** Makes the width axis the one nearest horizontal, so text reads along it. */
export function normalizeRect(r: RotatedRect): RotatedRect {
  let { width, height, angle } = r;
  // Fold the angle into (-pi/2, pi/2] first; a rectangle is symmetric under a half turn.
  while (angle > Math.PI / 2) angle -= Math.PI;
  while (angle <= -Math.PI / 2) angle += Math.PI;
  if (Math.abs(angle) > Math.PI / 4) {
    [width, height] = [height, width];
    angle += angle > 0 ? -Math.PI / 2 : Math.PI / 2;
  }
  return { cx: r.cx, cy: r.cy, width, height, angle };
}

/** Corners top-left, top-right, bottom-right, bottom-left (y down). */
export function rectCorners(r: RotatedRect): Quad {
  const ux = Math.cos(r.angle);
  const uy = Math.sin(r.angle);
  const hw = r.width / 2;
  const hh = r.height / 2;
  const at = (su: number, sv: number): Point => [r.cx + su * hw * ux - sv * hh * uy, r.cy + su * hw * uy + sv * hh * ux];
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

/**
 * Grows a rectangle the way PP-OCR's unclip does: offset the outline by
 * d = area * ratio / perimeter. For a rectangle the offset polygon (with
 * squared corners) is the rectangle with every side moved out by d; the
 * detector predicts a shrunken text kernel, so this recovers the full glyphs.
 */
export function expandRect(r: RotatedRect, ratio: number): RotatedRect {
  const area = r.width * r.height;
  const perimeter = 2 * (r.width + r.height);
  if (perimeter === 0) return r;
  const d = (area * ratio) / perimeter;
  return { ...r, width: r.width + 2 * d, height: r.height + 2 * d };
}

export function polygonArea(poly: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i] as Point;
    const b = poly[(i + 1) % poly.length] as Point;
    s += a[0] * b[1] - a[1] * b[0];
  }
  return Math.abs(s) / 2;
}
