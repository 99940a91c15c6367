/** The palette and masks a test needs to read a scene from its pixels. */
import { BACKGROUND_RGB, COLOUR_RGB, NOISE_AMPLITUDE } from '../../src/data/palette';
import type { SceneMeta } from '../../src/data/scenes';
import { sizeSide } from '../../src/data/scenes';
import { shapeMask } from '../../src/data/shapes';
import { SHAPES, SIZES } from '../../src/data/vocabulary';
import type { SceneLook, SeenObject } from './pixels';
import { lookAtScene } from './pixels';
import type { Raster } from '../../src/data/raster';

export function sceneLook(meta: SceneMeta): SceneLook {
  const sides = SIZES.map((s) => sizeSide(s, meta.width, meta.height));
  return {
    background: BACKGROUND_RGB[meta.background.colour],
    noise: meta.background.noisy ? NOISE_AMPLITUDE : 0,
    palette: COLOUR_RGB,
    masks: SHAPES.flatMap((shape) => sides.map((side) => ({ shape, ...shapeMask(shape, side) }))),
  };
}

/** Only the background description is taken from the metadata; the objects come from pixels. */
export function seeScene(raster: Raster, meta: SceneMeta): SeenObject[] {
  return lookAtScene(raster, sceneLook(meta));
}

export function seenName(o: SeenObject): string {
  return `${o.colour} ${o.shape}`;
}

export function seenSize(o: SeenObject, meta: SceneMeta): string {
  return SIZES.find((s) => sizeSide(s, meta.width, meta.height) === o.side) ?? '?';
}
