/**
 * The live loss chart (Chart.js, only the pieces a line chart over steps
 * needs): training loss at every step, validation loss where it was measured,
 * both against the step on a linear axis so the two line up.
 */
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { CurvePoint } from '../../worker/client';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

export interface TrainingChart {
  /** Replaces both curves (a run started or resumed with its saved curve). */
  reset(train: readonly CurvePoint[], validation: readonly CurvePoint[]): void;
  addTrain(point: CurvePoint): void;
  addValidation(point: CurvePoint): void;
  destroy(): void;
}

const xy = (points: readonly CurvePoint[]) => points.map((p) => ({ x: p.step, y: p.loss }));

export function trainingChart(canvas: HTMLCanvasElement): TrainingChart {
  const chart = new Chart<'line', { x: number; y: number }[]>(canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'Training loss', data: [], borderColor: '#4e79a7', backgroundColor: '#4e79a7', pointRadius: 0, borderWidth: 1.5 },
        { label: 'Validation loss', data: [], borderColor: '#e15759', backgroundColor: '#e15759', pointRadius: 3, borderWidth: 1.5 },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { precision: 0 } },
        y: { type: 'linear', title: { display: true, text: 'loss' } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
  });
  const [train, validation] = chart.data.datasets;
  if (!train || !validation) throw new Error('the loss chart lost its datasets');
  // Many steps arrive per second on a fast GPU: one redraw per frame.
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      chart.update('none');
      // The point counts on the canvas, for a reader of the page that cannot see the drawing (and the e2e).
      canvas.dataset.trainPoints = String(train.data.length);
      canvas.dataset.validationPoints = String(validation.data.length);
    });
  };
  return {
    reset(t, v) {
      train.data = xy(t);
      validation.data = xy(v);
      redraw();
    },
    addTrain(p) {
      train.data.push({ x: p.step, y: p.loss });
      redraw();
    },
    addValidation(p) {
      validation.data.push({ x: p.step, y: p.loss });
      redraw();
    },
    destroy: () => chart.destroy(),
  };
}
