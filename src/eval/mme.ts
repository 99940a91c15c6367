/**
 * MME-style yes/no scoring (Fu et al., 2023): each image of a subtask has two
 * questions, one whose answer is yes and one whose answer is no. Per subtask,
 * accuracy is over questions, accuracy+ over images (an image counts only when
 * both of its questions are right), and score = 100 x (acc + acc+), so at most
 * 200. The total is the sum over subtasks, as MME reports its Perception and
 * Cognition totals.
 */
import type { YesNo } from './pope';

export type MmeAnswer = YesNo | 'other';

/**
 * MME's parse_pred_ans (eval_tool/calculation.py): after lowercasing, "yes" or
 * "no" exactly, else "yes" or "no" within the first four characters; anything
 * else is "other", which is always wrong. Trimmed first, since the answers come
 * from a decoder and not from MME's tab-separated files.
 */
export function mmeAnswer(text: string): MmeAnswer {
  const t = text.trim().toLowerCase();
  if (t === 'yes' || t === 'no') return t;
  const prefix = t.slice(0, 4);
  if (prefix.includes('yes')) return 'yes';
  if (prefix.includes('no')) return 'no';
  return 'other';
}

export interface MmeRecord {
  subtask: string;
  /** Groups an image's questions; any stable id (the file name in MME). */
  image: string;
  answer: string;
  label: YesNo;
}

export interface MmeSubtaskScore {
  subtask: string;
  questions: number;
  images: number;
  /** 0..1 */
  accuracy: number;
  /** 0..1: share of images with every question right. */
  accuracyPlus: number;
  /** 100 x (accuracy + accuracyPlus): 0..200. */
  score: number;
}

export interface MmeScores {
  subtasks: MmeSubtaskScore[];
  total: number;
}

interface SubtaskTally {
  right: number;
  questions: number;
  /** image -> all of its questions right so far */
  images: Map<string, boolean>;
}

/** Scores per subtask in first-seen order; an image with one question (a malformed set) counts for acc+ when that one is right. */
export function scoreMme(records: Iterable<MmeRecord>): MmeScores {
  const tallies = new Map<string, SubtaskTally>();
  for (const r of records) {
    let t = tallies.get(r.subtask);
    if (!t) tallies.set(r.subtask, (t = { right: 0, questions: 0, images: new Map() }));
    const right = mmeAnswer(r.answer) === r.label;
    t.questions++;
    if (right) t.right++;
    t.images.set(r.image, (t.images.get(r.image) ?? true) && right);
  }
  const subtasks = [...tallies].map(([subtask, t]): MmeSubtaskScore => {
    const accuracy = t.right / t.questions;
    const accuracyPlus = [...t.images.values()].filter(Boolean).length / t.images.size;
    return { subtask, questions: t.questions, images: t.images.size, accuracy, accuracyPlus, score: 100 * (accuracy + accuracyPlus) };
  });
  return { subtasks, total: subtasks.reduce((s, x) => s + x.score, 0) };
}
