/** Median wall time of an async operation, after warm-up runs (pipeline compiles, first uploads). */
export interface Timing {
  medianMs: number;
  minMs: number;
  runs: number;
}

export async function timeIt(fn: () => Promise<void>, opts: { warmup?: number; iters?: number; budgetMs?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2;
  const iters = opts.iters ?? 7;
  // A slow op on a software adapter stops early instead of stalling the whole table.
  const budget = opts.budgetMs ?? 20_000;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < iters && (times.length < 3 || performance.now() - start < budget)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)] as number, minMs: times[0] as number, runs: times.length };
}
