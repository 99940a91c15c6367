/**
 * The kept evaluation runs: a list (date, benchmark, model and engine,
 * headline metric) to show, delete, or pick two of and compare side by side
 * (a metric table with both values and the difference, and grouped bars);
 * and the run a reload cut short, offered for Resume.
 */
import type { Chart } from 'chart.js';
import type { EvaluationResult, SavedEvaluation, TaskScore, UnfinishedEvaluation } from '../worker/api';
import type { VlmClient } from '../worker/client';
import { h, setChildren } from './dom';
import { formatDifference, formatScore } from './evaluate-format';

export interface RunsHooks {
  show(result: EvaluationResult): void;
  resume(unfinished: UnfinishedEvaluation): void;
  error(err: unknown): void;
}

export interface RunsPanel {
  element: HTMLElement;
  /** Re-reads the kept runs and the unfinished one from the worker. */
  refresh(): Promise<void>;
}

const who = (r: { model: string; engine: string; weights: string }) => `${r.model} · ${r.engine} · ${r.weights}`;
const when = (iso: string) => (iso ? new Date(iso).toLocaleString() : '');

/** The numbers compared per split or task: the metric's score and, for POPE, the paper's rates. */
function taskMetrics(s: TaskScore | undefined): Map<string, number> {
  const m = new Map<string, number>();
  if (!s) return m;
  m.set(s.metric, s.score);
  if (s.pope) for (const k of ['accuracy', 'precision', 'recall', 'f1', 'yesRatio'] as const) m.set(k, s.pope[k]);
  return m;
}

export function comparisonTable(a: EvaluationResult, b: EvaluationResult): HTMLTableElement {
  const tasks = [...new Set([...Object.keys(a.results), ...Object.keys(b.results)])];
  const rows = tasks.flatMap((task) => {
    const ma = taskMetrics(a.results[task]);
    const mb = taskMetrics(b.results[task]);
    return [...new Set([...ma.keys(), ...mb.keys()])].map((metric) => {
      const va = ma.get(metric);
      const vb = mb.get(metric);
      const fmt = (v: number | undefined) => (v === undefined ? '—' : formatScore(metric, v));
      return h(
        'tr',
        { 'data-testid': `eval-compare-${task}-${metric}` },
        h('th', { scope: 'row' }, task),
        h('td', {}, metric),
        h('td', { 'data-testid': 'eval-compare-a' }, fmt(va)),
        h('td', { 'data-testid': 'eval-compare-b' }, fmt(vb)),
        h('td', { 'data-testid': 'eval-compare-diff' }, va === undefined || vb === undefined ? '—' : formatDifference(metric, vb - va)),
      );
    });
  });
  const head = ['Split / task', 'Metric', `A: ${who(runOf(a))}`, `B: ${who(runOf(b))}`, 'B − A (points)'];
  return h(
    'table',
    { class: 'eval-table', 'data-testid': 'eval-compare' },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows),
  );
}

const runOf = (r: EvaluationResult) => ({ model: r.config['model'] ?? '', engine: r.config['engine'] ?? '', weights: r.config['weights'] ?? r.config['dtype'] ?? '' });

export function runsPanel(api: VlmClient, hooks: RunsHooks): RunsPanel {
  let runs: SavedEvaluation[] = [];
  let unfinished: UnfinishedEvaluation | null = null;
  const picked = new Set<string>();
  let chart: Chart<'bar'> | null = null;
  const resumeRow = h('div', { class: 'eval-run-row', 'data-testid': 'eval-unfinished' });
  const list = h('div', {});
  const compare = h('button', { type: 'button', 'data-testid': 'eval-compare-runs' }, 'Compare the two picked');
  const comparison = h('div', { class: 'eval-results', 'data-testid': 'eval-comparison' });
  const element = h('div', { class: 'eval-runs' }, resumeRow, h('h3', {}, 'Kept runs'), list, h('div', { class: 'eval-run-row' }, compare), comparison);

  function runRow(r: SavedEvaluation): HTMLTableRowElement {
    const pick = h('input', { type: 'checkbox', 'data-testid': 'eval-run-pick', 'aria-label': `compare ${r.title}` });
    pick.checked = picked.has(r.id);
    pick.addEventListener('change', () => {
      if (pick.checked) picked.add(r.id);
      else picked.delete(r.id);
      draw();
    });
    const show = h('button', { type: 'button', 'data-testid': 'eval-run-show' }, 'Show');
    show.addEventListener('click', () => void api.savedEvaluation(r.id).then((full) => full && hooks.show(full), hooks.error));
    const del = h('button', { type: 'button', 'data-testid': 'eval-run-delete' }, 'Delete');
    del.addEventListener('click', () => {
      picked.delete(r.id);
      void api.deleteEvaluation(r.id).then(refresh, hooks.error);
    });
    const head = r.headline ? `${r.headline.metric} ${formatScore(r.headline.metric, r.headline.value)}` : '—';
    const done = `${r.answered} / ${r.total}${r.stopped ? ' (stopped)' : ''}`;
    return h('tr', { 'data-testid': 'eval-run' }, h('td', {}, pick), h('td', {}, when(r.date)), h('td', {}, r.title), h('td', {}, who(r)), h('td', {}, head), h('td', {}, done), h('td', {}, show, ' ', del));
  }

  function draw(): void {
    const head = ['Compare', 'Date', 'Benchmark', 'Model · engine · weights', 'Headline', 'Answered', ''];
    setChildren(list, [
      runs.length === 0
        ? h('p', { class: 'hint' }, 'No runs kept yet.')
        : h('table', { class: 'eval-table', 'data-testid': 'eval-runs' }, h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, ...runs.map(runRow))),
    ]);
    compare.disabled = picked.size !== 2;
    compare.hidden = runs.length < 2;
    resumeRow.hidden = unfinished === null;
    if (unfinished) {
      const u = unfinished;
      const resume = h('button', { type: 'button', 'data-testid': 'eval-resume' }, 'Resume');
      resume.addEventListener('click', () => hooks.resume(u));
      const files = u.needsFiles ? ' It read your image files: pick the same folder or files above before resuming.' : '';
      setChildren(resumeRow, [h('span', {}, `Unfinished: ${u.title}, ${u.done} of ${u.total} answered when the page closed.${files}`), resume]);
    }
  }

  async function showComparison(): Promise<void> {
    const ids = runs.filter((r) => picked.has(r.id)).map((r) => r.id).reverse();
    const [a, b] = await Promise.all(ids.map((id) => api.savedEvaluation(id)));
    if (!a || !b) return;
    chart?.destroy();
    const canvas = h('canvas', { 'data-testid': 'eval-compare-chart' });
    const label = (r: EvaluationResult, k: string) => `${k}: ${who(runOf(r))}, ${when(r.config['date'] ?? '')}`;
    setChildren(comparison, [h('h3', {}, `A: ${a.title} · B: ${b.title}`), comparisonTable(a, b), h('div', { class: 'eval-chart-box' }, canvas)]);
    // Chart.js loads with the first comparison, not with the page.
    const { compareChart } = await import('./evaluate-compare-chart');
    chart = compareChart(canvas, [a, b], [label(a, 'A'), label(b, 'B')]);
  }
  compare.addEventListener('click', () => void showComparison().catch(hooks.error));

  async function refresh(): Promise<void> {
    [runs, unfinished] = await Promise.all([api.savedEvaluations(), api.unfinishedEvaluation()]);
    for (const id of [...picked]) if (!runs.some((r) => r.id === id)) picked.delete(id);
    draw();
  }
  draw();
  return { element, refresh };
}
