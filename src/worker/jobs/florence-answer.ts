/**
 * Florence-2's task answers as the page draws them: the processor's own
 * post-processing (florencePostProcess) turns the answer's <loc_N> tokens into
 * labels with boxes, or OCR lines with quads, in pixels of the image asked
 * about; captions and plain OCR stay text.
 */
import type { Processor } from '@huggingface/transformers';
import type { ChatModel } from '../../models/chat-model';
import type { GroundedObject, ImageSize } from '../../models/grounding';
import type { ImagePixels } from '../../models/image-processing';
import { florencePostProcess } from '../../models/transformers/florence';
import { florenceTaskText } from '../../models/transformers/prompt-inputs';
import { TransformersVlm } from '../../models/transformers/transformers-vlm';
import type { ChatMessage } from '../../models/vlm';
import type { TaskRegions } from '../api';

/** The task prompts Florence-2 answers, in the order the page offers them. */
export const FLORENCE_TASKS = ['<CAPTION>', '<DETAILED_CAPTION>', '<OD>', '<CAPTION_TO_PHRASE_GROUNDING>', '<OCR>', '<OCR_WITH_REGION>'] as const;

/** The task a prompt starts with, when it is one Florence-2 answers. */
export function florenceTask(prompt: string): string | null {
  const task = /^\s*(<[A-Z_]+>)/.exec(prompt)?.[1];
  return task && (FLORENCE_TASKS as readonly string[]).includes(task) ? task : null;
}

/** A quad [x1, y1, ..., x4, y4] as a polygon with its bounding box. */
function quadObject(label: string, quad: number[]): GroundedObject {
  const polygon: [number, number][] = [];
  for (let i = 0; i + 1 < quad.length; i += 2) polygon.push([quad[i] as number, quad[i + 1] as number]);
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  return { label, box: { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) }, polygon, partial: quad.length !== 8 };
}

/** The post-processed answer to `prompt`; null when the prompt is no Florence-2 task or there is no image. */
export function florenceRegions(processor: Processor, prompt: string, text: string, size: ImageSize | null): TaskRegions | null {
  const task = florenceTask(prompt);
  if (!task || !size) return null;
  const result = florencePostProcess(processor, text, task, size);
  const labels = result.labels ?? [];
  const objects: GroundedObject[] = [
    ...(result.bboxes ?? []).map(([x1 = 0, y1 = 0, x2 = 0, y2 = 0], i) => ({ label: labels[i] ?? '', box: { x1, y1, x2, y2 }, partial: false })),
    ...(result.quad_boxes ?? []).map((q, i) => quadObject(labels[i] ?? '', q)),
  ];
  return { task, imageSize: size, objects, ...(result.text !== undefined ? { text: result.text } : {}) };
}

/** Florence-2's boxes or quads for a task prompt, read from the last question and its last image; {} for other models. */
export function taskRegions(model: ChatModel, messages: readonly ChatMessage[], text: string, images: readonly ImagePixels[]): { regions?: TaskRegions } {
  if (!(model instanceof TransformersVlm) || model.family.kind !== 'florence2') return {};
  const image = images.at(-1);
  const regions = florenceRegions(model.processor, florenceTaskText(messages), text, image ? { width: image.width, height: image.height } : null);
  return regions ? { regions } : {};
}
