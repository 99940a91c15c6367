/** What every task produces: images with their exact metadata, and a conversation about them. */
import type { ChartMeta } from '../charts';
import type { DocumentMeta } from '../documents';
import type { Raster } from '../raster';
import type { SceneMeta } from '../scenes';
import type { TextMeta } from '../text-images';
import type { WordSource } from '../real-words';
import type { HeldOutMode } from '../vocabulary';

export type ImageMeta = SceneMeta | TextMeta | DocumentMeta | ChartMeta;

export interface GeneratedImage {
  readonly raster: Raster;
  readonly meta: ImageMeta;
  /** Scenes only: per pixel, 0 for background or 1 + the index of the object painted there. */
  readonly labels?: Uint8Array;
}

export interface Turn {
  readonly from: 'human' | 'gpt';
  readonly value: string;
}

/** One question and its exact, canonical answer. */
export interface QA {
  readonly question: string;
  readonly answer: string;
}

/** A sample before it has a name: images and a conversation whose first turn holds one <image> per image. */
export interface SampleDraft {
  readonly images: readonly GeneratedImage[];
  readonly conversations: readonly Turn[];
}

export interface Sample extends SampleDraft {
  readonly id: string;
  readonly task: string;
  /** One file name per image (no directory), parallel to `images`; samples may share a name and so an image. */
  readonly imageNames: readonly string[];
}

/** Knobs shared by all tasks. */
export interface TaskOptions {
  readonly heldOut: HeldOutMode;
  /** Object count range of scenes (a curriculum grows it: 1 -> 2 -> 4). */
  readonly minObjects: number;
  readonly maxObjects: number;
  /** Side of scene and text images in pixels. */
  readonly imageSize: number;
  /** Words of documents and charts; absent means 'synthetic' (today's closed lists). */
  readonly words?: WordSource;
}

export const DEFAULT_TASK_OPTIONS: TaskOptions = { heldOut: 'exclude', minObjects: 1, maxObjects: 5, imageSize: 64 };

export const IMAGE_TOKEN = '<image>';

/** The conversation for single-turn questions: image tokens first, as LLaVA writes them. */
export function conversation(qas: readonly QA[], imageCount = 1): Turn[] {
  const turns: Turn[] = [];
  qas.forEach((qa, i) => {
    const prefix = i === 0 ? `${IMAGE_TOKEN}\n`.repeat(imageCount) : '';
    turns.push({ from: 'human', value: `${prefix}${qa.question}` });
    turns.push({ from: 'gpt', value: qa.answer });
  });
  return turns;
}
