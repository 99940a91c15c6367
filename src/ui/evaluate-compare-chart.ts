/** Two kept runs' headline metric per split or task, as grouped bars (Chart.js, only what a bar chart needs). */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { EvaluationResult, TaskScore } from '../worker/api';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** F1 for a POPE split, the task's own metric otherwise; CER is an error rate, so it is drawn as is, not as a percentage of right answers. */
export const taskHeadline = (s: TaskScore): number => (s.pope ? s.pope.f1 : s.score);

/** The caller destroys the chart before drawing another. */
export function compareChart(canvas: HTMLCanvasElement, runs: readonly [EvaluationResult, EvaluationResult], labels: readonly [string, string]): Chart<'bar'> {
  const tasks = [...new Set(runs.flatMap((r) => Object.keys(r.results)))];
  const colours = ['#4e79a7', '#f28e2b'];
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: tasks,
      datasets: runs.map((r, i) => ({
        label: labels[i] ?? '',
        backgroundColor: colours[i] ?? '#888',
        data: tasks.map((t) => {
          const s = r.results[t];
          return s ? 100 * taskHeadline(s) : null;
        }),
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { min: 0, max: 100, title: { display: true, text: 'F1 or score, %' } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}
