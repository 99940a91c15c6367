/**
 * Scores answers to LLaVA-JSON records by the metric their task implies, or
 * by one the user picks. The task names and metrics are those of
 * tools/train/eval.py (metric_of and Tally), so a split scored here gives
 * `npm run eval:tiny`'s numbers: exact match on the raw answer, POPE F1 (with
 * yes as the positive class), the share of gold boxes found at IoU > 0.5, and
 * the character error rate summed over the split. Two VQAv2 metrics can be
 * picked as well.
 *
 * One difference from eval.py, by design: POPE answers are read by POPE's own
 * rule (src/eval/pope.ts), where eval.py counts only the exact answer "yes" as
 * yes. They agree whenever the model answers "yes" or "no".
 */
import { editDistance } from './cer';
import { boxHits } from './grounding-score';
import type { ConfusionCounts, PopeMetrics } from './pope';
import { addToCounts, emptyCounts, popeAnswer, popeMetrics } from './pope';
import { normaliseVqaAnswer, vqaAccuracy, vqaExactMatch } from './vqa';

export const METRICS = ['exact_match', 'f1', 'iou>0.5', 'cer', 'vqa_exact_match', 'vqa_accuracy'] as const;
export type MetricName = (typeof METRICS)[number];

export const isMetricName = (s: string): s is MetricName => (METRICS as readonly string[]).includes(s);

/**
 * Metrics scored over groups of answers rather than one by one: MME's
 * 100 x (acc + acc+) per subtask (src/eval/mme.ts) and MMBench's CircularEval
 * accuracy (src/eval/circular-eval.ts). A run's summary and samples may name
 * them; RecordScorer never picks them.
 */
export const GROUP_METRICS = ['mme', 'circular_eval'] as const;
export type GroupMetricName = (typeof GROUP_METRICS)[number];
export type ScoreMetric = MetricName | GroupMetricName;

export const isScoreMetric = (s: string): s is ScoreMetric => isMetricName(s) || (GROUP_METRICS as readonly string[]).includes(s);

/** eval.py's metric_of. */
export function metricOf(task: string): MetricName {
  if (task.startsWith('pope-')) return 'f1';
  if (task.startsWith('grounding')) return 'iou>0.5';
  if (task === 'ocr') return 'cer';
  return 'exact_match';
}

export interface Answered {
  task: string;
  /** The model's answer as decoded; trimmed here, as eval.py strips the decoded text. */
  pred: string;
  /** The record's answer turn. */
  gold: string;
  /** Several human answers (VQAv2 gives ten) for vqa_accuracy; `gold` alone when absent. */
  answers?: readonly string[];
}

export interface RecordScore {
  metric: MetricName;
  /** The answer as the metric reads it: yes/no for POPE, the normalised text for VQA, else the trimmed answer. */
  parsed: string;
  /** 1 or 0 for right or wrong; the box share for grounding; the record's own CER for OCR. */
  score: number;
}

export interface TaskScore {
  n: number;
  metric: ScoreMetric;
  score: number;
  /** POPE tasks: the confusion matrix and every rate the POPE paper reports. */
  pope?: PopeMetrics;
  /** MME subtasks: images and the two rates the score adds (0..1 each). */
  mme?: { images: number; accuracy: number; accuracyPlus: number };
}

interface TaskTally {
  metric: MetricName;
  n: number;
  sum: number;
  edits: number;
  chars: number;
  hits: number;
  boxes: number;
  counts: ConfusionCounts;
}

const asLabel = (gold: string): 'yes' | 'no' => (gold.trim() === 'yes' ? 'yes' : 'no');
const share = (num: number, den: number): number => num / Math.max(1, den);

/** One answer by one metric, adding what the task total needs to `t`. */
function scoreInto(t: TaskTally, a: Answered): RecordScore {
  const pred = a.pred.trim();
  const metric = t.metric;
  switch (metric) {
    case 'f1': {
      const parsed = popeAnswer(pred);
      const label = asLabel(a.gold);
      addToCounts(t.counts, { pred: parsed, label });
      return { metric, parsed, score: parsed === label ? 1 : 0 };
    }
    case 'iou>0.5': {
      const { hits, boxes } = boxHits(pred, a.gold);
      t.hits += hits;
      t.boxes += boxes;
      return { metric, parsed: pred, score: share(hits, boxes) };
    }
    case 'cer': {
      const edits = editDistance(pred, a.gold);
      const chars = [...a.gold].length;
      t.edits += edits;
      t.chars += chars;
      return { metric, parsed: pred, score: share(edits, chars) };
    }
    case 'vqa_exact_match':
      return { metric, parsed: normaliseVqaAnswer(pred), score: vqaExactMatch(pred, a.gold) ? 1 : 0 };
    case 'vqa_accuracy':
      return { metric, parsed: normaliseVqaAnswer(pred), score: vqaAccuracy(pred, a.answers ?? [a.gold]) };
    case 'exact_match':
      return { metric, parsed: pred, score: pred === a.gold ? 1 : 0 };
  }
}

function taskScore(t: TaskTally): TaskScore {
  switch (t.metric) {
    case 'f1': {
      const pope = popeMetrics(t.counts);
      return { n: t.n, metric: t.metric, score: pope.f1, pope };
    }
    case 'iou>0.5':
      return { n: t.n, metric: t.metric, score: share(t.hits, t.boxes) };
    case 'cer':
      return { n: t.n, metric: t.metric, score: share(t.edits, t.chars) };
    default:
      return { n: t.n, metric: t.metric, score: share(t.sum, t.n) };
  }
}

/** Accumulates answers task by task, like eval.py's Tally. */
export class RecordScorer {
  private readonly tallies = new Map<string, TaskTally>();

  /** @param metric the user's pick for every task; each task's own (metricOf) when absent. */
  constructor(private readonly metric?: MetricName) {}

  add(a: Answered): RecordScore {
    let t = this.tallies.get(a.task);
    if (!t) {
      t = { metric: this.metric ?? metricOf(a.task), n: 0, sum: 0, edits: 0, chars: 0, hits: 0, boxes: 0, counts: emptyCounts() };
      this.tallies.set(a.task, t);
    }
    const r = scoreInto(t, a);
    t.n++;
    t.sum += r.score;
    return r;
  }

  /** Per task, sorted by name as eval.py prints them. */
  scores(): Record<string, TaskScore> {
    const out: Record<string, TaskScore> = {};
    for (const task of [...this.tallies.keys()].sort()) out[task] = taskScore(this.tallies.get(task) as TaskTally);
    return out;
  }
}
