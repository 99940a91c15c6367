/**
 * Questions about one scene, each built from its metadata. A builder returns
 * null when the scene cannot support its question without ambiguity (no object
 * with a unique shape, every centre on a cell border...); the caller then draws
 * another scene. Every question kind has one template and one answer form.
 */
import type { Rng } from '../random';
import type { SceneMeta, SceneObject } from '../scenes';
import type { HeldOutMode } from '../vocabulary';
import { allowedColours, allowedShapes, shapePlural } from '../vocabulary';
import { describeScene, DESCRIBE_PROMPT } from './describe';
import { formatBox, formatGrounding, normaliseBox } from './grounding';
import type { Relation } from './layout';
import { objectName, positionIsClear, positionOf, readingOrder, relationHolds } from './layout';
import type { QA } from './types';

export type SceneQuestion = (scene: SceneMeta, rng: Rng, mode: HeldOutMode) => QA | null;

function only<T>(items: readonly T[], pred: (t: T) => boolean): T[] {
  return items.filter(pred);
}

export const askColour: SceneQuestion = (scene, rng) => {
  const objs = scene.objects;
  if (objs.length === 1) return { question: 'What colour is the object?', answer: (objs[0] as SceneObject).colour };
  const unique = only(objs, (o) => objs.filter((p) => p.shape === o.shape).length === 1);
  if (unique.length === 0) return null;
  const o = rng.pick(unique);
  return { question: `What colour is the ${o.shape}?`, answer: o.colour };
};

export const askShape: SceneQuestion = (scene, rng) => {
  const objs = scene.objects;
  if (objs.length === 1) return { question: 'What shape is the object?', answer: (objs[0] as SceneObject).shape };
  const unique = only(objs, (o) => objs.filter((p) => p.colour === o.colour).length === 1);
  if (unique.length === 0) return null;
  const o = rng.pick(unique);
  return { question: `What shape is the ${o.colour} object?`, answer: o.shape };
};

/** Counts all objects, one shape or one colour; the named shape or colour is absent a fifth of the time (answer 0). */
export const askCount: SceneQuestion = (scene, rng, mode) => {
  const objs = scene.objects;
  const kind = rng.int(0, 2);
  if (kind === 0) return { question: 'How many objects are there?', answer: String(objs.length) };
  const fromScene = !rng.chance(0.2);
  if (kind === 1) {
    const shape = fromScene ? rng.pick(objs).shape : rng.pick(allowedShapes(mode));
    const n = objs.filter((o) => o.shape === shape).length;
    return { question: `How many ${shapePlural(shape)} are there?`, answer: String(n) };
  }
  const colour = fromScene ? rng.pick(objs).colour : rng.pick(allowedColours(mode));
  const n = objs.filter((o) => o.colour === colour).length;
  return { question: `How many ${colour} objects are there?`, answer: String(n) };
};

export const askPosition: SceneQuestion = (scene, rng) => {
  const clear = only(scene.objects, (o) => positionIsClear(o, scene));
  if (clear.length === 0) return null;
  const o = rng.pick(clear);
  return { question: `Where is the ${objectName(o)}?`, answer: positionOf(o, scene) };
};

const RELATION_PAIRS: readonly (readonly [Relation, Relation])[] = [
  ['left of', 'right of'],
  ['above', 'below'],
];

/** "Is the A left of the B?" over a pair separated on that axis; yes and no equally often. */
export const askRelation: SceneQuestion = (scene, rng) => {
  const options: { a: SceneObject; b: SceneObject; axis: readonly [Relation, Relation] }[] = [];
  for (const a of scene.objects) {
    for (const b of scene.objects) {
      if (a === b) continue;
      for (const axis of RELATION_PAIRS) if (relationHolds(a, b, axis[0]) !== null) options.push({ a, b, axis });
    }
  }
  if (options.length === 0) return null;
  const { a, b, axis } = rng.pick(options);
  const relation = rng.pick(axis);
  const yes = relationHolds(a, b, relation) === true;
  return { question: `Is the ${objectName(a)} ${relation} the ${objectName(b)}?`, answer: yes ? 'yes' : 'no' };
};

export const askGrounding: SceneQuestion = (scene, rng) => {
  const o = rng.pick(scene.objects);
  const box = normaliseBox(o.bbox, scene.width, scene.height);
  return { question: `Locate the ${objectName(o)}.`, answer: formatGrounding(objectName(o), box) };
};

export const askGroundingAll: SceneQuestion = (scene) => {
  const answer = readingOrder(scene)
    .map((o) => formatGrounding(objectName(o), normaliseBox(o.bbox, scene.width, scene.height)))
    .join('');
  return { question: 'Locate every object.', answer };
};

export const askReferring: SceneQuestion = (scene, rng) => {
  const o = rng.pick(scene.objects);
  const box = formatBox(normaliseBox(o.bbox, scene.width, scene.height));
  return { question: `What is the object at ${box}?`, answer: objectName(o) };
};

export const askDescribe: SceneQuestion = (scene) => ({ question: DESCRIBE_PROMPT, answer: describeScene(scene) });
