/**
 * Florence-2 answers a task prompt ("<OD>", "<OCR_WITH_REGION>", ...) with
 * text and <loc_N> tokens (N of 1000 bins per side); its processor turns
 * that into labels and boxes or quads in image pixels.
 */
import type { Processor } from '@huggingface/transformers';

type Decoder = NonNullable<Processor['tokenizer']>;

/**
 * The answer as HF's Florence-2 post-processing reads it: special tokens kept
 * (the <loc_N> tokens are special in its tokenizer), sentence marks and padding dropped.
 */
export function florenceText(tokenizer: Decoder, ids: number[]): string {
  return tokenizer.decode(ids, { skip_special_tokens: false }).replace(/<\/?s>|<pad>/g, '');
}

export interface FlorenceResult {
  /** Text tasks (captions, OCR without regions). */
  text?: string;
  labels?: string[];
  /** [x1, y1, x2, y2] in image pixels. */
  bboxes?: number[][];
  /** [x1, y1, ..., x4, y4] in image pixels. */
  quad_boxes?: number[][];
}

/**
 * transformers.js' post_process_generation for `task`. Its parameter is
 * documented as height x width, but it scales the x bins (even positions) by
 * the first entry: it must be given [width, height].
 */
export function florencePostProcess(processor: Processor, text: string, task: string, size: { width: number; height: number }): FlorenceResult {
  const post = (processor as unknown as { post_process_generation?: (t: string, task: string, s: [number, number]) => Record<string, unknown> }).post_process_generation;
  if (!post) throw new Error('this processor is not Florence-2\'s');
  const answer = post.call(processor, text, task, [size.width, size.height])[task];
  return typeof answer === 'string' ? { text: answer } : (answer as FlorenceResult);
}
