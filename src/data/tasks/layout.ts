/**
 * Where objects are, in words. Position is the 3 x 3 cell holding the centre of
 * the object's box; a relation ("left of", "above") holds only when one box
 * ends before the other begins, so neither answer is ever a judgement call.
 */
import type { SceneMeta, SceneObject } from '../scenes';
import { categoryName } from '../vocabulary';

export const POSITIONS = [
  'top left',
  'top',
  'top right',
  'left',
  'center',
  'right',
  'bottom left',
  'bottom',
  'bottom right',
] as const;
export type Position = (typeof POSITIONS)[number];

/** Questions skip objects whose centre lies this close to a cell border. */
export const POSITION_MARGIN = 2;

function centre(o: SceneObject): { x: number; y: number } {
  return { x: (o.bbox.x1 + o.bbox.x2) / 2, y: (o.bbox.y1 + o.bbox.y2) / 2 };
}

function third(v: number, extent: number): number {
  return v < extent / 3 ? 0 : v < (2 * extent) / 3 ? 1 : 2;
}

export function positionOf(o: SceneObject, scene: SceneMeta): Position {
  const c = centre(o);
  return POSITIONS[third(c.y, scene.height) * 3 + third(c.x, scene.width)] as Position;
}

/** Whether the object's centre is clear of every cell border by POSITION_MARGIN pixels. */
export function positionIsClear(o: SceneObject, scene: SceneMeta): boolean {
  const c = centre(o);
  const clear = (v: number, extent: number): boolean =>
    Math.abs(v - extent / 3) >= POSITION_MARGIN && Math.abs(v - (2 * extent) / 3) >= POSITION_MARGIN;
  return clear(c.x, scene.width) && clear(c.y, scene.height);
}

export type Relation = 'left of' | 'right of' | 'above' | 'below';

/** Whether "a is <relation> b" holds; null when the boxes overlap on that axis, so the relation is undecided. */
export function relationHolds(a: SceneObject, b: SceneObject, relation: Relation): boolean | null {
  const horizontal = relation === 'left of' || relation === 'right of';
  const aFirst = horizontal ? a.bbox.x2 <= b.bbox.x1 : a.bbox.y2 <= b.bbox.y1;
  const bFirst = horizontal ? b.bbox.x2 <= a.bbox.x1 : b.bbox.y2 <= a.bbox.y1;
  if (!aFirst && !bFirst) return null;
  return relation === 'left of' || relation === 'above' ? aFirst : bFirst;
}

/** The name questions use for an object, e.g. "red circle" (unique within a scene). */
export function objectName(o: SceneObject): string {
  return categoryName(o);
}

/** Objects in reading order: by row of cells, then left to right, then top to bottom. */
export function readingOrder(scene: SceneMeta): SceneObject[] {
  const key = (o: SceneObject): [number, number, number] => {
    const c = centre(o);
    return [third(c.y, scene.height), c.x, c.y];
  };
  return [...scene.objects].sort((p, q) => {
    const [a0, a1, a2] = key(p);
    const [b0, b1, b2] = key(q);
    return a0 - b0 || a1 - b1 || a2 - b2;
  });
}
