/**
 * Florence-2 answers no free-form questions, only its task prompts, so
 * Documents offers those tasks about the page on screen instead: a caption,
 * a detailed caption, the page's text (OCR), or the objects it finds. They go
 * through the worker's chat like the Chat view's task buttons, and the answer
 * shown is the processor's post-processed one (its text, or the labels it
 * boxed), not the raw <loc_N> tokens.
 */
import type { ChatReply } from '../worker/api';

/** The tasks offered about a page, in button order; reading a page into lines is the OCR engine's job. */
export const PAGE_TASKS = [
  { task: '<CAPTION>', label: 'Caption' },
  { task: '<DETAILED_CAPTION>', label: 'Detailed caption' },
  { task: '<OCR>', label: 'Read the text (OCR)' },
  { task: '<OD>', label: 'Objects' },
] as const;

/** Only the tasks the loaded model names. */
export function pageTasks(modelTasks: readonly string[] | undefined): (typeof PAGE_TASKS)[number][] {
  return PAGE_TASKS.filter((t) => modelTasks?.includes(t.task));
}

/** What a task's answer says, in words: the post-processed text, or the labels of what it boxed. */
export function taskAnswerText(reply: ChatReply): string {
  const regions = reply.regions;
  if (regions?.text !== undefined) return regions.text;
  if (regions) return regions.objects.length ? regions.objects.map((o) => o.label).join(', ') : 'Nothing found.';
  return reply.text;
}
