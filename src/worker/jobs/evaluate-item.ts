/**
 * One question of an evaluation plan, the plan, and how a run scores each
 * answer and sums them up. Most benchmarks
 * score answer by answer (RecordScorer, by the task's metric); MME and
 * CircularEval judge groups of answers (an image's two questions, a question's
 * rotations), so a plan may bring its own scorer with the same two calls.
 */
import { RecordScorer, type MetricName, type TaskScore } from '../../eval/score-records';
import type { ChatImage, ChatMessage } from '../api';

export interface EvalItem {
  questionId: string | number;
  task: string;
  /** The user's file name; '' for a generated image. */
  image: string;
  question: string;
  messages: ChatMessage[];
  truth: string;
  /** Several human answers (a LLaVA record's `answers`), for vqa_accuracy. */
  answers?: readonly string[];
  images(): Promise<ChatImage[]>;
}

export interface EvalPlan {
  title: string;
  config: Record<string, string>;
  items: EvalItem[];
  skipped: number;
  missingImages: string[];
  /** Scores groups of answers (MME, CircularEval); answer by answer by the task's metric when absent. */
  scorer?: ItemScorer;
}

/** What a scorer needs of a question: the fields of EvalItem it reads. */
export interface ScoredItem {
  questionId: string | number;
  task: string;
  image: string;
  truth: string;
  /** Several human answers (VQAv2), for vqa_accuracy. */
  answers?: readonly string[];
}

export interface ItemScore {
  /** The answer as the metric read it. */
  parsed: string;
  correct: boolean;
  score: number;
}

export interface ItemScorer {
  add(item: ScoredItem, answer: string): ItemScore;
  /** Per task, as the metrics table and the export's summary show them. */
  scores(): Record<string, TaskScore>;
}

/** Answer by answer by RecordScorer; a record's several answers reach vqa_accuracy. */
export function recordItemScorer(metric?: MetricName): ItemScorer {
  const scorer = new RecordScorer(metric);
  return {
    add(item, answer) {
      const r = scorer.add({ task: item.task, pred: answer, gold: item.truth, ...(item.answers ? { answers: item.answers } : {}) });
      return { parsed: r.parsed, correct: r.metric === 'cer' ? r.score === 0 : r.score === 1, score: r.score };
    },
    scores: () => scorer.scores(),
  };
}
