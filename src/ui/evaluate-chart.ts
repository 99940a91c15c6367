/** The bar chart of POPE's rates per split (Chart.js, only the pieces a bar chart needs). */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { EvaluationResult } from '../worker/api';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const RATES = [
  ['accuracy', 'Accuracy', '#4e79a7'],
  ['precision', 'Precision', '#f28e2b'],
  ['recall', 'Recall', '#59a14f'],
  ['f1', 'F1', '#e15759'],
  ['yesRatio', 'Yes-ratio', '#76b7b2'],
] as const;

/** A chart on `canvas`, or null when no split is POPE's. The caller destroys it before drawing another. */
export function popeChart(canvas: HTMLCanvasElement, results: EvaluationResult['results']): Chart<'bar'> | null {
  const pope = Object.entries(results).flatMap(([task, s]) => (s.pope ? [[task, s.pope] as const] : []));
  if (pope.length === 0) return null;
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: pope.map(([task]) => task),
      datasets: RATES.map(([key, label, colour]) => ({ label, backgroundColor: colour, data: pope.map(([, p]) => 100 * p[key]) })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { min: 0, max: 100, title: { display: true, text: '%' } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}
