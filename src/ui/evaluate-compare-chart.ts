/** Two kept runs' headline metric per split or task, as grouped bars (Chart.js, only what a bar chart needs). */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { EvaluationResult, TaskScore } from '../worker/api';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** F1 for a POPE split, the task's own metric otherwise. */
export const taskHeadline = (s: TaskScore): number => (s.pope ? s.pope.f1 : s.score);

/** Rates are drawn as percentages; MME's score (0-200 a subtask) and CER as they are reported. */
const plotted = (s: TaskScore): number => (s.pope || (s.metric !== 'mme' && s.metric !== 'cer') ? 100 * taskHeadline(s) : s.score);

/** The caller destroys the chart before drawing another. */
export function compareChart(canvas: HTMLCanvasElement, runs: readonly [EvaluationResult, EvaluationResult], labels: readonly [string, string]): Chart<'bar'> {
  const tasks = [...new Set(runs.flatMap((r) => Object.keys(r.results)))];
  const colours = ['#4e79a7', '#f28e2b'];
  const rates = runs.every((r) => Object.values(r.results).every((s) => s.pope || (s.metric !== 'mme' && s.metric !== 'cer')));
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: tasks,
      datasets: runs.map((r, i) => ({
        label: labels[i] ?? '',
        backgroundColor: colours[i] ?? '#888',
        data: tasks.map((t) => {
          const s = r.results[t];
          return s ? plotted(s) : null;
        }),
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: rates ? { min: 0, max: 100, title: { display: true, text: 'F1 or score, %' } } : { min: 0, title: { display: true, text: 'score (MME 0-200, CER as a fraction)' } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}
