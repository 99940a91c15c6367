/**
 * The summary tables of the benchmarks scored over groups of answers: MME's
 * accuracy, accuracy+ and score per subtask with their total, and
 * CircularEval's accuracy overall and per category. Each question's
 * rotations stay rows of the per-question table (raw answer, chosen letter).
 */
import type { EvaluationResult, TaskScore } from '../worker/api';
import { h } from './dom';
import { formatScore, pct } from './evaluate-format';


function table(testId: string, head: string[], rows: HTMLTableRowElement[]): HTMLTableElement {
  return h('table', { class: 'eval-table', 'data-testid': testId }, h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, ...rows));
}

function mmeRow(task: string, s: TaskScore): HTMLTableRowElement {
  const m = s.mme;
  return h(
    'tr',
    { 'data-testid': `eval-mme-${task}` },
    h('th', { scope: 'row' }, task),
    h('td', {}, m ? m.images : ''),
    h('td', {}, s.n),
    h('td', { 'data-testid': 'eval-mme-acc' }, m ? pct(m.accuracy) : ''),
    h('td', { 'data-testid': 'eval-mme-acc-plus' }, m ? pct(m.accuracyPlus) : ''),
    h('td', { 'data-testid': 'eval-score' }, formatScore('mme', s.score)),
  );
}

function choiceRow(task: string, s: TaskScore): HTMLTableRowElement {
  return h('tr', { 'data-testid': `eval-choice-${task}` }, h('th', { scope: 'row' }, task), h('td', {}, s.n), h('td', { 'data-testid': 'eval-score' }, pct(s.score)));
}

/** The summary of an MME or CircularEval run, or null for the benchmarks metricsTable shows. */
export function groupTable(r: EvaluationResult): HTMLTableElement | null {
  const rows = Object.entries(r.results);
  if (rows.some(([, s]) => s.metric === 'mme')) return table('eval-mme', ['Subtask', 'Images', 'Questions', 'Accuracy', 'Accuracy+', 'Score (acc + acc+)'], rows.map(([t, s]) => mmeRow(t, s)));
  if (rows.some(([, s]) => s.metric === 'circular_eval')) return table('eval-choice', ['Category', 'Questions', 'CircularEval accuracy'], rows.map(([t, s]) => choiceRow(t, s)));
  return null;
}
