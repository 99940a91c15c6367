/**
 * Two-image comparison: the second image is the first with exactly one change
 * (an object added, removed, recoloured or reshaped) on the same background,
 * noise included, so the change is the only difference in pixels too.
 */
import type { Rng } from '../random';
import type { PlacedObject, SceneSpec } from '../scenes';
import { findSpot, renderScene, sizeSide } from '../scenes';
import type { Category, HeldOutMode } from '../vocabulary';
import { allowedColours, allowedShapes, categories, categoryName, SIZES } from '../vocabulary';
import type { DraftBuilder } from './scene-tasks';
import { sceneAsImage, withScene } from './scene-tasks';
import { conversation } from './types';

export const COMPARE_PROMPT = 'What is the difference between these two images?';
export const CHANGES = ['add', 'remove', 'recolour', 'reshape'] as const;
export type Change = (typeof CHANGES)[number];

interface Edited {
  readonly spec: SceneSpec;
  readonly answer: string;
}

function has(objs: readonly PlacedObject[], c: Category): boolean {
  return objs.some((o) => o.colour === c.colour && o.shape === c.shape);
}

function addObject(spec: SceneSpec, rng: Rng, mode: HeldOutMode): Edited | null {
  const free = categories(mode).filter((c) => !has(spec.objects, c));
  const c = rng.pick(free);
  const size = rng.pick(SIZES);
  const side = sizeSide(size, spec.width, spec.height);
  const spot = findSpot(rng, side, spec.width, spec.height, spec.objects);
  if (!spot) return null;
  const added: PlacedObject = { ...c, size, side, x: spot.x, y: spot.y };
  return {
    spec: { ...spec, objects: [...spec.objects, added] },
    answer: `The second image has an extra ${categoryName(c)}.`,
  };
}

function editObject(spec: SceneSpec, rng: Rng, mode: HeldOutMode, change: Change): Edited | null {
  const i = rng.int(0, spec.objects.length - 1);
  const o = spec.objects[i] as PlacedObject;
  const rest = spec.objects.filter((_, j) => j !== i);
  if (change === 'remove') {
    if (spec.objects.length < 2) return null;
    return { spec: { ...spec, objects: rest }, answer: `The second image has no ${categoryName(o)}.` };
  }
  const choices: Category[] =
    change === 'recolour'
      ? allowedColours(mode).map((colour) => ({ colour, shape: o.shape }))
      : allowedShapes(mode).map((shape) => ({ colour: o.colour, shape }));
  const free = choices.filter((c) => !has(spec.objects, c));
  if (free.length === 0) return null;
  const c = rng.pick(free);
  const objects = spec.objects.map((p, j) => (j === i ? { ...p, ...c } : p));
  const answer =
    change === 'recolour'
      ? `The ${categoryName(o)} is ${c.colour} in the second image.`
      : `The ${categoryName(o)} is a ${c.shape} in the second image.`;
  return { spec: { ...spec, objects }, answer };
}

export const compareTask: DraftBuilder = (rng, options) =>
  withScene(rng, options, 'compare', (first) => {
    const change = rng.pick(CHANGES);
    const spec: SceneSpec = first.meta;
    const edited =
      change === 'add' ? addObject(spec, rng, options.heldOut) : editObject(spec, rng, options.heldOut, change);
    if (!edited || edited.spec.objects.length > options.maxObjects || edited.spec.objects.length < options.minObjects) {
      return null;
    }
    const second = renderScene(edited.spec);
    return {
      images: [sceneAsImage(first), sceneAsImage(second)],
      conversations: conversation([{ question: COMPARE_PROMPT, answer: edited.answer }], 2),
    };
  });
