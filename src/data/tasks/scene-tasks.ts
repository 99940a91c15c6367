/** Tasks over one scene: single questions, and multi-turn conversations mixing them. */
import type { Rng } from '../random';
import type { SceneImage, SceneOptions } from '../scenes';
import { generateScene } from '../scenes';
import type { SceneQuestion } from './scene-questions';
import {
  askColour,
  askCount,
  askDescribe,
  askGrounding,
  askPosition,
  askReferring,
  askRelation,
  askShape,
} from './scene-questions';
import type { GeneratedImage, QA, SampleDraft, TaskOptions } from './types';
import { conversation } from './types';

export type DraftBuilder = (rng: Rng, options: TaskOptions) => SampleDraft;

/** Scenes a task may reject before it gives up: only an impossible option set (e.g. relations with one object) gets there. */
export const MAX_SCENE_ATTEMPTS = 500;

export function sceneOptionsOf(o: TaskOptions): Partial<SceneOptions> {
  return {
    width: o.imageSize,
    height: o.imageSize,
    minObjects: o.minObjects,
    maxObjects: o.maxObjects,
    heldOut: o.heldOut,
  };
}

export function sceneAsImage(s: SceneImage): GeneratedImage {
  return { raster: s.raster, meta: s.meta, labels: s.labels };
}

/** Draws scenes until `make` accepts one. */
export function withScene<T>(
  rng: Rng,
  options: TaskOptions,
  what: string,
  make: (scene: SceneImage) => T | null,
): T {
  for (let i = 0; i < MAX_SCENE_ATTEMPTS; i++) {
    const out = make(generateScene(rng, sceneOptionsOf(options)));
    if (out !== null) return out;
  }
  throw new Error(`${what}: no scene with ${options.minObjects}-${options.maxObjects} objects supports it`);
}

export function singleQuestion(what: string, ask: SceneQuestion): DraftBuilder {
  return (rng, options) =>
    withScene(rng, options, what, (scene) => {
      const qa = ask(scene.meta, rng, options.heldOut);
      return qa ? { images: [sceneAsImage(scene)], conversations: conversation([qa]) } : null;
    });
}

const FOLLOW_UPS: readonly SceneQuestion[] = [
  askColour,
  askShape,
  askCount,
  askPosition,
  askRelation,
  askGrounding,
  askReferring,
];

const MIN_TURNS = 2;
const MAX_TURNS = 4;

/** 2-4 different question kinds about one scene, sometimes opening with the description. */
export const multiTurn: DraftBuilder = (rng, options) =>
  withScene(rng, options, 'multi-turn', (scene) => {
    const want = rng.int(MIN_TURNS, MAX_TURNS);
    const qas: QA[] = [];
    if (rng.chance(0.25)) qas.push(askDescribe(scene.meta, rng, options.heldOut) as QA);
    for (const ask of rng.shuffle(FOLLOW_UPS)) {
      if (qas.length >= want) break;
      const qa = ask(scene.meta, rng, options.heldOut);
      if (qa && !qas.some((q) => q.question === qa.question)) qas.push(qa);
    }
    return qas.length >= MIN_TURNS ? { images: [sceneAsImage(scene)], conversations: conversation(qas) } : null;
  });
