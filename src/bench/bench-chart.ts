/**
 * The Benchmark view's bar charts (Chart.js, only the pieces used are
 * registered so the rest stays out of the bundle): the ORT/ours ratio per
 * op and shape, and the model figures per engine.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LogarithmicScale, Tooltip } from 'chart.js';
import type { BenchRow } from './bench-case';
import type { ModelBenchResult } from './model-bench';
import { MODEL_ENGINES } from './model-bench';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, Legend, Tooltip);

const ENGINE_COLOURS = ['#2f6fdf', '#d9822b', '#3a9d5d'];

export type BarChart = Chart<'bar', number[], string>;

function barChart(canvas: HTMLCanvasElement, label: string): BarChart {
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [] },
    // No animation: the chart redraws after every row, and a screenshot or test sees its final state at once.
    options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { title: { display: false, text: label } } },
  });
}

export function kernelRatioChart(canvas: HTMLCanvasElement): BarChart {
  const chart = barChart(canvas, 'ORT ms / ours ms');
  chart.options.indexAxis = 'y';
  chart.options.scales = { x: { type: 'logarithmic', title: { display: true, text: 'ORT ms / ours ms (above 1: ours faster; log scale)' } } };
  return chart;
}

export function showKernelRatios(chart: BarChart, rows: readonly BenchRow[]): void {
  chart.data.labels = rows.map((r) => `${r.op} ${r.shape}`);
  chart.data.datasets = [
    { label: 'ORT ms / ours ms', data: rows.map((r) => r.ratio), backgroundColor: rows.map((r) => (r.ratio >= 1 ? '#3a9d5d' : '#c94f4f')) },
  ];
  chart.update();
}

export function modelChart(canvas: HTMLCanvasElement): BarChart {
  const chart = barChart(canvas, 'model figures per engine');
  // Milliseconds, tokens/s and MiB differ by orders of magnitude: a log axis keeps every bar readable.
  chart.options.scales = { y: { type: 'logarithmic', title: { display: true, text: 'value (log scale)' } } };
  return chart;
}

export function showModelFigures(chart: BarChart, r: ModelBenchResult): void {
  chart.data.labels = ['encode ms', 'TTFT ms', 'decode tok/s', 'GPU MiB'];
  chart.data.datasets = MODEL_ENGINES.flatMap((engine, i) => {
    const f = r.engines[engine];
    if (!f) return [];
    return [{ label: engine, data: [f.encodeMs, f.ttftMs, f.decodeTokensPerSecond, f.peakGpuBytes === null ? NaN : f.peakGpuBytes / 2 ** 20], backgroundColor: ENGINE_COLOURS[i % ENGINE_COLOURS.length] }];
  });
  chart.update();
}
