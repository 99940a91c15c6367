/**
 * Every task by name. The name is what a split's records carry in "task" and
 * what the eval reports per row, so names are stable: add, never rename.
 */
import type { PopeStrategy } from '../pope';
import { compareTask } from './compare';
import { docDateContextTask, docTableContextTask, docTablesContextTask, docTitleContextTask } from './document-context';
import {
  chartHighestTask,
  chartMaxValueTask,
  chartTypeTask,
  chartValueTask,
  docDateTask,
  docTableTask,
  docTitleTask,
  ocrTask,
} from './reading-tasks';
import {
  askColour,
  askCount,
  askDescribe,
  askGrounding,
  askGroundingAll,
  askPosition,
  askReferring,
  askRelation,
  askShape,
} from './scene-questions';
import type { DraftBuilder } from './scene-tasks';
import { multiTurn, singleQuestion } from './scene-tasks';

/** Tasks whose samples are independent of each other: one seeded draw each. */
export const SAMPLE_TASKS = {
  describe: singleQuestion('describe', askDescribe),
  'vqa-colour': singleQuestion('vqa-colour', askColour),
  'vqa-shape': singleQuestion('vqa-shape', askShape),
  'vqa-count': singleQuestion('vqa-count', askCount),
  'vqa-position': singleQuestion('vqa-position', askPosition),
  'vqa-relation': singleQuestion('vqa-relation', askRelation),
  grounding: singleQuestion('grounding', askGrounding),
  'grounding-all': singleQuestion('grounding-all', askGroundingAll),
  referring: singleQuestion('referring', askReferring),
  'multi-turn': multiTurn,
  compare: compareTask,
  ocr: ocrTask,
  'doc-title': docTitleTask,
  'doc-date': docDateTask,
  'doc-table': docTableTask,
  'chart-type': chartTypeTask,
  'chart-highest': chartHighestTask,
  'chart-max-value': chartMaxValueTask,
  'chart-value': chartValueTask,
  'doc-title-context': docTitleContextTask,
  'doc-date-context': docDateContextTask,
  'doc-table-context': docTableContextTask,
  'doc-tables-context': docTablesContextTask,
} as const satisfies Record<string, DraftBuilder>;

export type SampleTaskName = keyof typeof SAMPLE_TASKS;

/** POPE tasks: their negatives depend on statistics over all of the task's images. */
export const POPE_TASKS = {
  'pope-random': 'random',
  'pope-popular': 'popular',
  'pope-adversarial': 'adversarial',
} as const satisfies Record<string, PopeStrategy>;

export type PopeTaskName = keyof typeof POPE_TASKS;

export type TaskName = SampleTaskName | PopeTaskName;

export const TASK_NAMES: readonly TaskName[] = [
  ...(Object.keys(SAMPLE_TASKS) as SampleTaskName[]),
  ...(Object.keys(POPE_TASKS) as PopeTaskName[]),
];

export function isTaskName(s: string): s is TaskName {
  return (TASK_NAMES as readonly string[]).includes(s);
}

export function isPopeTask(t: TaskName): t is PopeTaskName {
  return t in POPE_TASKS;
}
