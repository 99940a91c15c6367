/**
 * The evaluation job's requests, events and results, declared beside the job
 * and re-exported by api.ts, where the page takes them.
 */
import type { MetricName, TaskScore } from '../../eval/score-records';
import type { ApiError } from '../errors';
import type { ChoiceRequest, EvalTextFile, MmeRequest } from './evaluate-group-types';

export type { MetricName, TaskScore } from '../../eval/score-records';
export type { PopeMetrics } from '../../eval/pope';

export const POPE_SPLITS = ['random', 'popular', 'adversarial'] as const;
export type PopeSplitName = (typeof POPE_SPLITS)[number];

export type { ChoiceRequest, EvalTextFile, MmeRequest } from './evaluate-group-types';

export type EvaluationRequest =
  /** POPE on freshly generated scenes: `images` scenes per split, 6 questions each (3 present, 3 absent objects). */
  | { benchmark: 'pope-synthetic'; seed: number; images: number; splits: PopeSplitName[] }
  /** POPE's official COCO question file for `split` (or the user's own), over the image files the user has. */
  | { benchmark: 'pope-coco'; split: PopeSplitName; questions: EvalTextFile; imageNames: string[] }
  /** Any LLaVA-JSON file; each record's first question, scored by its task's metric or by `metric`. */
  | { benchmark: 'llava'; data: EvalTextFile; imageNames: string[]; metric?: MetricName }
  | MmeRequest
  | ChoiceRequest;

/**
 * The bytes of one of the files named in `imageNames`, asked for only when a
 * question about it is about to run, so a 500-image folder never sits in the
 * worker at once. The page returns them with Comlink.transfer.
 */
export type ReadImage = (name: string) => Promise<ArrayBuffer>;

export interface EvaluationRecord {
  /** Position in the run, from 0. */
  docId: number;
  questionId: string | number;
  /** The group the record is scored in: pope-random, pope-popular, pope-adversarial, or a LLaVA task. */
  task: string;
  /** The user's image file as the page named it; '' for generated images. */
  image: string;
  question: string;
  /** The model's answer as decoded. */
  answer: string;
  /** The answer as the metric read it (yes/no for POPE). */
  parsed: string;
  truth: string;
  correct: boolean;
  score: number;
}

export type EvaluationEvent =
  | { type: 'planned'; total: number; skipped: number; missingImages: string[] }
  | { type: 'answered'; done: number; total: number; elapsedMs: number; record: EvaluationRecord };

export interface EvaluationResult {
  /** The stored format; a stored run of another version is not shown. */
  version: number;
  /** Names the run among the kept ones (its start time and a random tail). */
  id: string;
  benchmark: EvaluationRequest['benchmark'];
  /** One line saying what ran, e.g. "COCO POPE, random split (coco_pope_random.json)". */
  title: string;
  /** Model, engine, weights, benchmark settings and date, as strings (the export's config). */
  config: Record<string, string>;
  /** Questions that were to run (those with their images at hand). */
  total: number;
  /** Questions left out because their image was missing or unreadable. */
  skipped: number;
  missingImages: string[];
  /** Per task (split), by RecordScorer: POPE tasks carry the confusion matrix and rates. */
  results: Record<string, TaskScore>;
  records: EvaluationRecord[];
  /** Why the run ended early ('cancelled', 'no-model', ...), keeping what was scored; null when it finished. */
  stopped: ApiError | null;
  ms: number;
  /** The export files, made in the worker where the scoring library lives. */
  json: string;
  csv: string;
  summaryCsv: string;
}

/** A kept run as the list of runs shows it; the whole run comes from savedEvaluation(id). */
export interface SavedEvaluation {
  id: string;
  /** ISO date the run started. */
  date: string;
  title: string;
  benchmark: EvaluationRequest['benchmark'];
  model: string;
  engine: string;
  weights: string;
  answered: number;
  total: number;
  stopped: boolean;
  /** Mean F1 over POPE splits, else the mean score; null when nothing was scored. */
  headline: { metric: string; value: number } | null;
}

/** A run a reload cut short: what resumeEvaluation would finish. */
export interface UnfinishedEvaluation {
  title: string;
  benchmark: EvaluationRequest['benchmark'];
  done: number;
  total: number;
  /** The run read the user's image files, which the page must pick again before resuming. */
  needsFiles: boolean;
}
