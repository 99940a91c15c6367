/**
 * A benchmark table as cells: the one source of what the scripts print and
 * what the Benchmark view shows, so both read the same columns and figures.
 */
export interface BenchTable {
  head: string[];
  body: string[][];
  /** Lines under the table: medians, ratios, the copy roofline. */
  notes: string[];
  /** Columns printed left-aligned (names); the rest are numbers, right-aligned. */
  textColumns: number;
}

/** The table as monospaced text, as `npm run bench:*` print it. */
export function formatBenchTable(t: BenchTable): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < t.textColumns ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(t.head), ...t.body.map(line), ...(t.notes.length ? ['', ...t.notes] : [])].join('\n');
}

/** The same JSON text for the scripts' --json file and the view's Copy and Download. */
export function benchJson(result: unknown): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
