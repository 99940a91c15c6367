/** Bar charts of MME's score per subtask (0..200) and CircularEval's accuracy per category (Chart.js). */
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { EvaluationResult } from '../worker/api';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** A chart on `canvas`, or null when the run is neither MME nor CircularEval. The caller destroys it before drawing another. */
export function groupChart(canvas: HTMLCanvasElement, results: EvaluationResult['results']): Chart<'bar'> | null {
  const mme = Object.entries(results).filter(([, s]) => s.metric === 'mme' && s.mme);
  const choice = Object.entries(results).filter(([, s]) => s.metric === 'circular_eval');
  const rows = mme.length > 0 ? mme : choice;
  if (rows.length === 0) return null;
  const isMme = mme.length > 0;
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: rows.map(([task]) => task),
      datasets: [{ label: isMme ? 'Score (acc + acc+)' : 'CircularEval accuracy %', backgroundColor: '#4e79a7', data: rows.map(([, s]) => (isMme ? s.score : 100 * s.score)) }],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { min: 0, max: isMme ? 200 : 100, title: { display: true, text: isMme ? 'score' : '%' } } },
      plugins: { legend: { display: false } },
    },
  });
}
