/**
 * A split: `count` samples spread evenly over the chosen tasks, interleaved
 * task by task so any prefix is a balanced mix. Sample j of task t draws from
 * its own stream, seeded by (seed, t, j): the split is a pure function of its
 * options, and generating it in the browser gives the same bytes as in Node.
 */
import { buildPopeQuestions, POPE_PER_IMAGE, popeQuestionText } from './pope';
import { deriveSeed, Rng } from './random';
import { generateScene } from './scenes';
import type { PopeTaskName, SampleTaskName, TaskName } from './tasks/registry';
import { isPopeTask, POPE_TASKS, SAMPLE_TASKS } from './tasks/registry';
import { sceneAsImage, sceneOptionsOf } from './tasks/scene-tasks';
import type { Sample, TaskOptions } from './tasks/types';
import { conversation, DEFAULT_TASK_OPTIONS } from './tasks/types';
import { categories } from './vocabulary';

export interface SplitOptions extends TaskOptions {
  readonly seed: number;
  readonly count: number;
  readonly tasks: readonly TaskName[];
}

function pad(j: number): string {
  return String(j).padStart(6, '0');
}

/** How many samples each task gets: equal shares, the remainder to the first tasks. */
export function taskCounts(count: number, tasks: readonly TaskName[]): [TaskName, number][] {
  if (tasks.length === 0) throw new Error('split: no tasks');
  return tasks.map((t, i) => [t, Math.floor(count / tasks.length) + (i < count % tasks.length ? 1 : 0)]);
}

function* sampleTask(task: SampleTaskName, n: number, seed: number, o: TaskOptions): Generator<Sample> {
  const build = SAMPLE_TASKS[task];
  for (let j = 0; j < n; j++) {
    const draft = build(new Rng(deriveSeed(seed, task, j)), o);
    const id = `${task}-${pad(j)}`;
    const imageNames = draft.images.length === 1 ? [`${id}.png`] : draft.images.map((_, k) => `${id}-${k}.png`);
    yield { ...draft, id, task, imageNames };
  }
}

/**
 * POPE samples: one question each. Images are drawn from (seed, image index)
 * alone, so all three strategies in one split ask about the same images (as
 * POPE does) and share their files. POPE picks images with at least 3 objects;
 * a curriculum that caps objects lower gets fewer questions per image.
 */
function* popeTask(task: PopeTaskName, n: number, seed: number, o: TaskOptions): Generator<Sample> {
  const perImageQuestions = 2 * Math.min(POPE_PER_IMAGE, o.maxObjects);
  const imageCount = Math.ceil(n / perImageQuestions);
  const sceneOptions = { ...sceneOptionsOf(o), minObjects: Math.max(o.minObjects, Math.min(POPE_PER_IMAGE, o.maxObjects)) };
  const scenes = Array.from({ length: imageCount }, (_, k) =>
    generateScene(new Rng(deriveSeed(seed, 'pope-image', k)), sceneOptions),
  );
  const questions = buildPopeQuestions(
    scenes.map((s) => s.meta),
    POPE_TASKS[task],
    categories(o.heldOut),
    seed,
  ).slice(0, n);
  for (const [j, q] of questions.entries()) {
    const scene = scenes[q.imageIndex];
    if (!scene) throw new Error('pope: question about a missing image');
    yield {
      id: `${task}-${pad(j)}`,
      task,
      images: [sceneAsImage(scene)],
      imageNames: [`pope-image-${pad(q.imageIndex)}.png`],
      conversations: conversation([{ question: popeQuestionText(q.category), answer: q.label }]),
    };
  }
}

export function taskSamples(task: TaskName, n: number, seed: number, o: TaskOptions = DEFAULT_TASK_OPTIONS): Generator<Sample> {
  return isPopeTask(task) ? popeTask(task, n, seed, o) : sampleTask(task, n, seed, o);
}

/** All samples of the split, round-robin over tasks. */
export function* generateSplit(options: SplitOptions): Generator<Sample> {
  const streams = taskCounts(options.count, options.tasks).map(([t, n]) => taskSamples(t, n, options.seed, options));
  let live = streams;
  while (live.length > 0) {
    const next: Generator<Sample>[] = [];
    for (const s of live) {
      const r = s.next();
      if (!r.done) {
        yield r.value;
        next.push(s);
      }
    }
    live = next;
  }
}
