/**
 * Shape scenes: 1-5 objects on a plain or noisy background. Objects never
 * overlap and keep a gap of background between them, so every object is one
 * connected region of one colour and every answer about it stays true.
 */
import type { BackgroundName } from './palette';
import { BACKGROUND_RGB, BACKGROUNDS, COLOUR_RGB, NOISE_AMPLITUDE } from './palette';
import { Rng } from './random';
import type { Box, Raster } from './raster';
import { addNoise, boxesTouch, createRaster } from './raster';
import { drawCategories } from './scene-prior';
import { paintMask, shapeMask } from './shapes';
import type { Category, ColourName, HeldOutMode, ShapeName, SizeName } from './vocabulary';
import { SIZES } from './vocabulary';

export interface SceneBackground {
  readonly colour: BackgroundName;
  readonly noisy: boolean;
  /** Seeds the noise alone, so two scenes can share a background pixel for pixel. */
  readonly noiseSeed: number;
}

/** An object as placed: its shape fills a side x side square with corner (x, y). */
export interface PlacedObject {
  readonly shape: ShapeName;
  readonly colour: ColourName;
  readonly size: SizeName;
  readonly x: number;
  readonly y: number;
  readonly side: number;
}

/** A placed object plus the tight box around the pixels it painted. */
export interface SceneObject extends PlacedObject {
  readonly bbox: Box;
}

export interface SceneSpec {
  readonly width: number;
  readonly height: number;
  readonly background: SceneBackground;
  readonly objects: readonly PlacedObject[];
}

export interface SceneMeta extends SceneSpec {
  readonly kind: 'scene';
  readonly objects: readonly SceneObject[];
}

export interface SceneImage {
  readonly raster: Raster;
  /** Per pixel: 0 for background, i + 1 where object i painted. */
  readonly labels: Uint8Array;
  readonly meta: SceneMeta;
}

export interface SceneOptions {
  readonly width: number;
  readonly height: number;
  readonly minObjects: number;
  readonly maxObjects: number;
  readonly heldOut: HeldOutMode;
  /** Probability of a noisy background. */
  readonly noisyChance: number;
}

export const DEFAULT_SCENE_OPTIONS: SceneOptions = {
  width: 64,
  height: 64,
  minObjects: 1,
  maxObjects: 5,
  heldOut: 'exclude',
  noisyChance: 0.5,
};

/** Background pixels kept between any two objects' squares. */
export const OBJECT_GAP = 2;
const EDGE_MARGIN = 1;
const PLACEMENT_TRIES = 60;

const SIZE_FRACTION: Readonly<Record<SizeName, number>> = { small: 0.16, medium: 0.23, large: 0.31 };

/** Side in pixels of an object's square; 10, 15 and 20 on a 64 x 64 image. */
export function sizeSide(size: SizeName, width: number, height: number): number {
  return Math.max(4, Math.round(Math.min(width, height) * SIZE_FRACTION[size]));
}

export function paintBackground(width: number, height: number, background: SceneBackground): Raster {
  const raster = createRaster(width, height, BACKGROUND_RGB[background.colour]);
  if (background.noisy) {
    const noise = new Rng(background.noiseSeed);
    addNoise(raster, NOISE_AMPLITUDE, () => noise.next());
  }
  return raster;
}

export function renderScene(spec: SceneSpec): SceneImage {
  const { width, height, background } = spec;
  const raster = paintBackground(width, height, background);
  const labels = new Uint8Array(width * height);
  const objects = spec.objects.map((o, i): SceneObject => {
    const mask = shapeMask(o.shape, o.side);
    const bbox = paintMask(raster, mask, o.x, o.y, COLOUR_RGB[o.colour], { map: labels, value: i + 1 });
    return { ...o, bbox };
  });
  return { raster, labels, meta: { kind: 'scene', width, height, background, objects } };
}

function squareOf(o: { x: number; y: number; side: number }): Box {
  return { x1: o.x, y1: o.y, x2: o.x + o.side, y2: o.y + o.side };
}

/** A free spot for a side x side square, or null when PLACEMENT_TRIES random spots all collide. */
export function findSpot(
  rng: Rng,
  side: number,
  width: number,
  height: number,
  taken: readonly PlacedObject[],
): { x: number; y: number } | null {
  const maxX = width - side - EDGE_MARGIN;
  const maxY = height - side - EDGE_MARGIN;
  if (maxX < EDGE_MARGIN || maxY < EDGE_MARGIN) return null;
  for (let t = 0; t < PLACEMENT_TRIES; t++) {
    const x = rng.int(EDGE_MARGIN, maxX);
    const y = rng.int(EDGE_MARGIN, maxY);
    const box = squareOf({ x, y, side });
    if (!taken.some((o) => boxesTouch(box, squareOf(o), OBJECT_GAP))) return { x, y };
  }
  return null;
}

/** Places the categories one by one, shrinking an object that finds no room. */
function placeAll(rng: Rng, cats: readonly Category[], width: number, height: number): PlacedObject[] | null {
  const placed: PlacedObject[] = [];
  for (const c of cats) {
    let sizeIndex = rng.int(0, SIZES.length - 1);
    let spot: { x: number; y: number } | null = null;
    let side = 0;
    for (; sizeIndex >= 0; sizeIndex--) {
      side = sizeSide(SIZES[sizeIndex] as SizeName, width, height);
      spot = findSpot(rng, side, width, height, placed);
      if (spot) break;
    }
    if (!spot) return null;
    placed.push({ ...c, size: SIZES[sizeIndex] as SizeName, x: spot.x, y: spot.y, side });
  }
  return placed;
}

export function drawBackground(rng: Rng, noisyChance: number): SceneBackground {
  return {
    colour: rng.pick(BACKGROUNDS),
    noisy: rng.chance(noisyChance),
    noiseSeed: rng.int(0, 0x7fffffff),
  };
}

/** A random scene spec; retries with fresh draws when the objects do not fit. */
export function drawSceneSpec(rng: Rng, options: Partial<SceneOptions> = {}): SceneSpec {
  const o = { ...DEFAULT_SCENE_OPTIONS, ...options };
  if (o.minObjects < 1 || o.maxObjects < o.minObjects) {
    throw new Error(`scene: bad object count range ${o.minObjects}-${o.maxObjects}`);
  }
  for (;;) {
    const n = rng.int(o.minObjects, o.maxObjects);
    const placed = placeAll(rng, drawCategories(rng, n, o.heldOut), o.width, o.height);
    if (placed) {
      return { width: o.width, height: o.height, background: drawBackground(rng, o.noisyChance), objects: placed };
    }
  }
}

export function generateScene(rng: Rng, options: Partial<SceneOptions> = {}): SceneImage {
  return renderScene(drawSceneSpec(rng, options));
}
