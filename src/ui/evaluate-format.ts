/**
 * How the Evaluate view writes a metric's value, in one place: rates as
 * percentages, the character error rate as a fraction (it can pass 1), and
 * MME's score as the number MME reports (100 x (acc + acc+), 0-200 a subtask).
 */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function formatScore(metric: string, value: number): string {
  if (metric === 'cer') return value.toFixed(3);
  if (metric === 'mme') return value.toFixed(2);
  return pct(value);
}

/** B - A for the comparison table, in the metric's own unit (points for rates). */
export function formatDifference(metric: string, diff: number): string {
  if (metric === 'cer' || metric === 'mme') return `${diff > 0 ? '+' : ''}${diff.toFixed(metric === 'cer' ? 3 : 2)}`;
  return `${diff > 0 ? '+' : diff < 0 ? '−' : '±'}${(100 * Math.abs(diff)).toFixed(1)}`;
}
