/**
 * The detailed description of a scene, one fixed template so exact match works:
 * "The image shows 2 objects on a noisy gray background: a large red circle in
 * the top left and a small blue square on the right."
 */
import type { SceneMeta, SceneObject } from '../scenes';
import type { Position } from './layout';
import { positionOf, readingOrder } from './layout';

export const DESCRIBE_PROMPT = 'Describe this image in detail.';

const WHERE: Readonly<Record<Position, string>> = {
  'top left': 'in the top left',
  top: 'at the top',
  'top right': 'in the top right',
  left: 'on the left',
  center: 'in the center',
  right: 'on the right',
  'bottom left': 'in the bottom left',
  bottom: 'at the bottom',
  'bottom right': 'in the bottom right',
};

/** Joins with commas and a final "and" (no serial comma): "a, b and c". */
export function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

function phrase(o: SceneObject, scene: SceneMeta): string {
  return `a ${o.size} ${o.colour} ${o.shape} ${WHERE[positionOf(o, scene)]}`;
}

export function describeScene(scene: SceneMeta): string {
  const n = scene.objects.length;
  const bg = `${scene.background.noisy ? 'noisy' : 'plain'} ${scene.background.colour}`;
  const count = n === 1 ? '1 object' : `${n} objects`;
  const parts = readingOrder(scene).map((o) => phrase(o, scene));
  return `The image shows ${count} on a ${bg} background: ${joinList(parts)}.`;
}
