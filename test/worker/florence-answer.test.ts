import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AutoProcessor, env, type Processor } from '@huggingface/transformers';
import { florenceRegions, florenceTask } from '../../src/worker/jobs/florence-answer';

const HUB_DIR = join(process.cwd(), 'test/fixtures/hub');
const REPO = 'microsoft-tiny-florence2';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = `${HUB_DIR}/`;

interface GoldenCase {
  task: string;
  decoded: string;
  post_processed: { image_size: number[]; result: Record<string, { labels?: string[]; bboxes?: number[][]; quad_boxes?: number[][] } | string> }[];
}

const golden = JSON.parse(readFileSync(join(HUB_DIR, REPO, 'golden.json'), 'utf8')) as { cases: GoldenCase[] };

/** PyTorch's answer to `task` as the worker sees it (sentence marks dropped) and its post-processed result for a 640x480 image. */
function goldenCase(task: string) {
  const c = golden.cases.find((g) => g.task === task);
  const post = c?.post_processed.find((p) => p.image_size.join('x') === '640x480');
  if (!c || !post) throw new Error(`no golden case ${task} at 640x480`);
  return { text: c.decoded.replace(/<\/?s>/g, ''), result: post.result[task] };
}

describe('Florence-2 task answers', () => {
  let processor: Processor;
  beforeAll(async () => {
    processor = await AutoProcessor.from_pretrained(REPO);
  });

  it('knows the task a prompt starts with, and only the tasks it offers', () => {
    expect(florenceTask('<OD>')).toBe('<OD>');
    expect(florenceTask(' <CAPTION_TO_PHRASE_GROUNDING>a red square')).toBe('<CAPTION_TO_PHRASE_GROUNDING>');
    expect(florenceTask('What is this?')).toBeNull();
    expect(florenceTask('<REGION_TO_SEGMENTATION>')).toBeNull();
  });

  it("gives Object detection's boxes in pixels as PyTorch's post-processing does, with their labels", () => {
    const { text, result } = goldenCase('<OD>');
    const want = result as { labels: string[]; bboxes: number[][] };
    const got = florenceRegions(processor, '<OD>', text, { width: 640, height: 480 });
    expect(got?.imageSize).toEqual({ width: 640, height: 480 });
    expect(got?.objects.map((o) => o.label)).toEqual(want.labels);
    expect(got?.objects.length).toBe(want.bboxes.length);
    got?.objects.forEach((o, i) => [o.box.x1, o.box.y1, o.box.x2, o.box.y2].forEach((v, k) => expect(v).toBeCloseTo(want.bboxes[i]?.[k] as number, 3)));
  });

  it('gives OCR quads as polygons with their bounding boxes', () => {
    const { text, result } = goldenCase('<OCR_WITH_REGION>');
    const quad = (result as { quad_boxes: number[][] }).quad_boxes[0] as number[];
    const got = florenceRegions(processor, '<OCR_WITH_REGION>', text, { width: 640, height: 480 });
    const first = got?.objects[0];
    expect(first?.polygon?.flat().map((v) => Number(v.toFixed(3)))).toEqual(quad.map((v) => Number(v.toFixed(3))));
    const xs = quad.filter((_, i) => i % 2 === 0);
    const ys = quad.filter((_, i) => i % 2 === 1);
    expect(first?.box).toEqual({ x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) });
    expect(first?.partial).toBe(false);
  });

  it('keeps a caption as text with no regions; a prompt that is no task, or no image, gives nothing', () => {
    const { text, result } = goldenCase('<CAPTION>');
    expect(florenceRegions(processor, '<CAPTION>', text, { width: 640, height: 480 })).toEqual({ task: '<CAPTION>', imageSize: { width: 640, height: 480 }, objects: [], text: result });
    expect(florenceRegions(processor, 'Describe this.', text, { width: 640, height: 480 })).toBeNull();
    expect(florenceRegions(processor, '<OD>', text, null)).toBeNull();
  });
});
