import { describe, expect, it } from 'vitest';
import { boxHits } from '../../src/eval/grounding-score';
import type { TaskScore } from '../../src/eval/score-records';
import { metricOf, RecordScorer } from '../../src/eval/score-records';

/**
 * (task, pred, gold) and the scores tools/train/eval.py's Tally gives for them:
 * its metric_of, box_hits, edit_distance and Tally definitions were executed
 * as written (the module's torch import left out, as scoring never uses it),
 * and score is Tally.scores()'s value before its round(s, 4).
 */
const TABLE: [string, string, string][] = [
  ['pope-random', 'yes', 'yes'],
  ['pope-random', 'yes', 'no'],
  ['pope-random', 'no', 'yes'],
  ['pope-random', 'no', 'no'],
  ['pope-random', 'yes', 'yes'],
  ['pope-adversarial', 'no', 'no'],
  ['pope-adversarial', 'no', 'no'],
  ['pope-adversarial', 'yes', 'yes'],
  ['pope-popular', 'no', 'yes'],
  ['pope-popular', 'no', 'no'],
  ['grounding', '<ref>red circle</ref><box>(100,100),(300,300)</box>', '<ref>red circle</ref><box>(110,90),(310,300)</box>'],
  ['grounding', '<ref>red circle</ref><box>(400,400),(600,600)</box>', '<ref>red circle</ref><box>(100,100),(300,300)</box>'],
  ['grounding', '<ref>blue square</ref><box>(100,100),(300,300)</box>', '<ref>red circle</ref><box>(100,100),(300,300)</box>'],
  ['grounding-all', '<ref>red circle</ref><box>(0,0),(500,500)</box><ref>red circle</ref><box>(0,0),(500,500)</box>', '<ref>red circle</ref><box>(0,0),(500,500)</box><ref>red circle</ref><box>(10,10),(490,520)</box><ref>green star</ref><box>(600,600),(900,900)</box>'],
  ['grounding-all', '<ref>green star</ref><box>(600,600),(900,900)</box><ref>red circle</ref><box>(0,0),(500,500)</box>', '<ref>red circle</ref><box>(0,0),(500,500)</box><ref>green star</ref><box>(620,600),(900,880)</box>'],
  ['ocr', 'HELL0 WORLD', 'HELLO WORLD'],
  ['ocr', 'abc', 'abcd'],
  ['ocr', 'naïve café', 'naive cafe'],
  ['vqa-count', '3', '3'],
  ['vqa-count', '2', '3'],
  ['vqa-count', 'three', '3'],
  ['vqa-colour', 'red', 'red'],
  ['vqa-colour', 'Red', 'red'],
  ['doc-title', 'Quarterly Report', 'Quarterly Report'],
];

const TALLY: Record<string, { n: number; metric: string; score: number }> = {
  'doc-title': { n: 1, metric: 'exact_match', score: 1 },
  grounding: { n: 3, metric: 'iou>0.5', score: 0.3333333333333333 },
  'grounding-all': { n: 2, metric: 'iou>0.5', score: 0.8 },
  ocr: { n: 3, metric: 'cer', score: 0.16 },
  'pope-adversarial': { n: 3, metric: 'f1', score: 1 },
  'pope-popular': { n: 2, metric: 'f1', score: 0 },
  'pope-random': { n: 5, metric: 'f1', score: 0.6666666666666666 },
  'vqa-colour': { n: 2, metric: 'exact_match', score: 0.5 },
  'vqa-count': { n: 3, metric: 'exact_match', score: 0.3333333333333333 },
};

describe('scoring LLaVA-JSON answers', () => {
  it("gives eval.py's Tally numbers on the synthetic tasks", () => {
    const scorer = new RecordScorer();
    for (const [task, pred, gold] of TABLE) scorer.add({ task, pred, gold });
    const scores = scorer.scores();
    expect(Object.keys(scores)).toEqual(Object.keys(TALLY));
    for (const [task, want] of Object.entries(TALLY)) expect({ task, ...scores[task] }).toMatchObject({ task, ...want });
  });

  it('maps task names to metrics as eval.py does', () => {
    expect(['pope-random', 'grounding', 'grounding-all', 'ocr', 'vqa-count', 'doc-title', 'ocr-extra'].map(metricOf)).toEqual(['f1', 'iou>0.5', 'iou>0.5', 'cer', 'exact_match', 'exact_match', 'exact_match']);
  });

  it("gives POPE tasks the paper's full set of rates and per-record parsed answers", () => {
    const scorer = new RecordScorer();
    const r = scorer.add({ task: 'pope-random', pred: ' No, there is not. ', gold: 'no' });
    expect(r).toEqual({ metric: 'f1', parsed: 'no', score: 1 });
    scorer.add({ task: 'pope-random', pred: 'Yes, there is.', gold: 'yes' });
    scorer.add({ task: 'pope-random', pred: 'I cannot tell', gold: 'no' });
    const s = scorer.scores()['pope-random'] as TaskScore;
    expect(s.pope).toMatchObject({ tp: 1, fp: 1, tn: 1, fn: 0, accuracy: 2 / 3, precision: 0.5, recall: 1, yesRatio: 2 / 3 });
    expect(s.score).toBeCloseTo(2 / 3, 12);
  });

  it('scores every task by the metric the user picks', () => {
    const scorer = new RecordScorer('vqa_accuracy');
    expect(scorer.add({ task: 'vqa-count', pred: 'Two', gold: '2' })).toEqual({ metric: 'vqa_accuracy', parsed: '2', score: 1 });
    expect(scorer.add({ task: 'vqa-count', pred: '2', gold: '2', answers: ['2', '2', '3', '3', '3', '3', '3', '3', '3', '3'] }).score).toBeCloseTo(0.6, 12);
    expect(scorer.scores()['vqa-count']).toMatchObject({ n: 2, metric: 'vqa_accuracy', score: 0.8 });
    const em = new RecordScorer('vqa_exact_match');
    expect(em.add({ task: 'describe', pred: 'A red circle.', gold: 'red circle' })).toEqual({ metric: 'vqa_exact_match', parsed: 'red circle', score: 1 });
  });

  it('reads boxes in other families’ formats in the same 0..1000 frame', () => {
    const gold = '<ref>red circle</ref><box>(100,100),(300,300)</box>';
    expect(boxHits('<|object_ref_start|>red circle<|object_ref_end|><|box_start|>(105,100),(300,310)<|box_end|>', gold)).toEqual({ hits: 1, boxes: 1 });
    // A box cut off mid-answer is not scored.
    expect(boxHits('<ref>red circle</ref><box>(100,100),(300,300', gold)).toEqual({ hits: 0, boxes: 1 });
  });
});
