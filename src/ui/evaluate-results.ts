/**
 * The tables drawn after an evaluation: metrics per split, the confusion
 * matrix of each POPE split, and the per-question answers, filterable to the
 * wrong ones.
 */
import type { EvaluationRecord, EvaluationResult, TaskScore } from '../worker/api';
import { h } from './dom';
import { formatScore, pct } from './evaluate-format';

/** Rows drawn at most; the exports hold all of them. */
export const MAX_ROWS = 500;


function metricRow(task: string, s: TaskScore): HTMLTableRowElement {
  const p = s.pope;
  const cells = p ? [pct(p.accuracy), pct(p.precision), pct(p.recall), pct(p.f1), pct(p.yesRatio)] : ['', '', '', '', ''];
  return h(
    'tr',
    { 'data-testid': `eval-metrics-${task}` },
    h('th', { scope: 'row' }, task),
    h('td', {}, s.n),
    h('td', {}, s.metric),
    h('td', { 'data-testid': 'eval-score' }, formatScore(s.metric, s.score)),
    ...cells.map((c, i) => h('td', i === 3 ? { 'data-testid': 'eval-f1' } : {}, c)),
  );
}

export function metricsTable(results: EvaluationResult['results']): HTMLTableElement {
  const head = ['Split / task', 'n', 'Metric', 'Score', 'Accuracy', 'Precision', 'Recall', 'F1', 'Yes-ratio'];
  return h(
    'table',
    { class: 'eval-table', 'data-testid': 'eval-metrics' },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...Object.entries(results).map(([task, s]) => metricRow(task, s))),
  );
}

/** One 2x2 matrix per POPE split, truth down, prediction across, yes first as the paper's positive class. */
export function confusionMatrices(results: EvaluationResult['results']): HTMLElement | null {
  const pope = Object.entries(results).flatMap(([task, s]) => (s.pope ? [[task, s.pope] as const] : []));
  if (pope.length === 0) return null;
  const matrix = ([task, p]: (typeof pope)[number]) =>
    h(
      'table',
      { class: 'eval-table confusion', 'data-testid': `eval-confusion-${task}` },
      h('caption', {}, task),
      h('thead', {}, h('tr', {}, h('th', {}, 'truth \\ answer'), h('th', { scope: 'col' }, 'yes'), h('th', { scope: 'col' }, 'no'))),
      h(
        'tbody',
        {},
        h('tr', {}, h('th', { scope: 'row' }, 'yes'), h('td', { class: 'hit' }, `TP ${p.tp}`), h('td', { class: 'miss' }, `FN ${p.fn}`)),
        h('tr', {}, h('th', { scope: 'row' }, 'no'), h('td', { class: 'miss' }, `FP ${p.fp}`), h('td', { class: 'hit' }, `TN ${p.tn}`)),
      ),
    );
  return h('div', { class: 'confusions', 'data-testid': 'eval-confusion' }, ...pope.map(matrix));
}

function questionRow(r: EvaluationRecord, thumb: (name: string) => string | null): HTMLTableRowElement {
  const url = r.image ? thumb(r.image) : null;
  return h(
    'tr',
    { class: r.correct ? 'right' : 'wrong', 'data-testid': 'eval-question-row' },
    h('td', {}, url ? h('img', { src: url, alt: r.image, class: 'eval-thumb', loading: 'lazy' }) : r.image || '—'),
    h('td', {}, r.task),
    h('td', {}, r.question),
    h('td', {}, r.answer),
    h('td', {}, r.parsed),
    h('td', {}, r.truth),
    h('td', {}, r.correct ? '✓' : '✗'),
  );
}

/** `thumb` gives an image URL for the user's own files (null for generated images). */
export function questionsTable(records: readonly EvaluationRecord[], onlyErrors: boolean, thumb: (name: string) => string | null): HTMLElement {
  const shown = onlyErrors ? records.filter((r) => !r.correct) : records;
  const head = ['Image', 'Split / task', 'Question', 'Raw answer', 'Parsed', 'Truth', ''];
  if (shown.length === 0) return h('p', { class: 'hint', 'data-testid': 'eval-no-rows' }, onlyErrors ? 'No wrong answers.' : 'No answers yet.');
  const note = shown.length > MAX_ROWS ? h('p', { class: 'hint' }, `Showing the first ${MAX_ROWS} of ${shown.length}; the downloads hold all.`) : null;
  return h(
    'div',
    { class: 'eval-questions' },
    note,
    h(
      'table',
      { class: 'eval-table', 'data-testid': 'eval-questions' },
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...shown.slice(0, MAX_ROWS).map((r) => questionRow(r, thumb))),
    ),
  );
}

/** The images the question file names that were not among the user's files, or could not be read. */
export function missingList(missing: readonly string[]): HTMLElement | null {
  if (missing.length === 0) return null;
  const shown = missing.slice(0, MAX_ROWS);
  const more = missing.length > shown.length ? ` (first ${shown.length})` : '';
  return h('details', { 'data-testid': 'eval-missing' }, h('summary', {}, `${missing.length} image(s) missing${more}`), h('p', { class: 'hint eval-missing-list' }, shown.join(', ')));
}
