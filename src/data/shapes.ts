/**
 * Filled shapes with one exact coverage rule: a pixel belongs to a shape when
 * its centre (x + 0.5, y + 0.5) lies inside the shape's geometry (boundary
 * included). The geometry lives in a side x side square; coordinates below are
 * in units of that side, so u and v run from 0 to 1.
 */
import type { Box, Raster, Rgb } from './raster';
import { inBounds, setPixel } from './raster';
import type { ShapeName } from './vocabulary';

/** A coverage mask: 1 where the shape covers the pixel, row-major side x side. */
export interface ShapeMask {
  readonly side: number;
  readonly bits: Uint8Array;
  /** The tightest box around the covered pixels, relative to the mask's corner. */
  readonly bounds: Box;
}

// Five outer and five inner points, alternating, top point straight up. The
// inner radius is chosen so that the star reads as a star at 10 pixels. The
// sines and cosines of multiples of 36 degrees are written out because
// Math.sin and Math.cos may differ in the last bit between JS engines, and a
// pixel centre on an edge would then flip between Node and a browser.
const STAR_INNER_RATIO = 0.45;
const SIN36 = 0.5877852522924731;
const COS36 = 0.8090169943749475;
const SIN72 = 0.9510565162951535;
const COS72 = 0.30901699437494745;
const STAR_DIRECTIONS: readonly (readonly [number, number])[] = [
  [0, 1],
  [SIN36, COS36],
  [SIN72, COS72],
  [SIN72, -COS72],
  [SIN36, -COS36],
  [0, -1],
  [-SIN36, -COS36],
  [-SIN72, -COS72],
  [-SIN72, COS72],
  [-SIN36, COS36],
];
const STAR_POINTS: readonly (readonly [number, number])[] = STAR_DIRECTIONS.map(([sin, cos], i) => {
  const r = i % 2 === 0 ? 0.5 : 0.5 * STAR_INNER_RATIO;
  return [0.5 + r * sin, 0.5 - r * cos] as const;
});

/** Even-odd crossing test; the star is the only concave outline. */
function insidePolygon(u: number, v: number, pts: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i] as readonly [number, number];
    const [xj, yj] = pts[j] as readonly [number, number];
    if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const CROSS_HALF_ARM = 1 / 6;

/** Whether the point (u, v) of the unit square lies in the shape. */
export function shapeContains(shape: ShapeName, u: number, v: number): boolean {
  const du = Math.abs(u - 0.5);
  const dv = Math.abs(v - 0.5);
  switch (shape) {
    case 'square':
      return true;
    case 'circle':
      return du * du + dv * dv <= 0.25;
    case 'triangle':
      return du <= v / 2;
    case 'diamond':
      return du + dv <= 0.5;
    case 'cross':
      return du <= CROSS_HALF_ARM || dv <= CROSS_HALF_ARM;
    case 'star':
      return insidePolygon(u, v, STAR_POINTS);
  }
}

export function shapeMask(shape: ShapeName, side: number): ShapeMask {
  const bits = new Uint8Array(side * side);
  let x1 = side;
  let y1 = side;
  let x2 = 0;
  let y2 = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (!shapeContains(shape, (x + 0.5) / side, (y + 0.5) / side)) continue;
      bits[y * side + x] = 1;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + 1);
      y2 = Math.max(y2, y + 1);
    }
  }
  return { side, bits, bounds: { x1, y1, x2, y2 } };
}

/**
 * Paints the mask with its corner at (x, y) and returns the painted pixels'
 * box in raster coordinates. `label`, when given, records `labelValue` at every
 * painted pixel (the per-pixel object map that trainers use as dense targets).
 */
export function paintMask(
  r: Raster,
  mask: ShapeMask,
  x: number,
  y: number,
  colour: Rgb,
  label?: { map: Uint8Array; value: number },
): Box {
  for (let my = 0; my < mask.side; my++) {
    for (let mx = 0; mx < mask.side; mx++) {
      if (mask.bits[my * mask.side + mx] !== 1) continue;
      if (!inBounds(r, x + mx, y + my)) continue;
      setPixel(r, x + mx, y + my, colour);
      if (label) label.map[(y + my) * r.width + (x + mx)] = label.value;
    }
  }
  const b = mask.bounds;
  return { x1: x + b.x1, y1: y + b.y1, x2: x + b.x2, y2: y + b.y2 };
}
