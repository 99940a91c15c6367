import { describe, expect, it } from 'vitest';
import { describeProgress, ProgressReporter, RateMeter, type DownloadProgress } from '../../src/worker/cache/progress';

describe('download progress', () => {
  it('measures the rate over a sliding window, so a stall shows', () => {
    let t = 0;
    const meter = new RateMeter(() => t, 4000);
    for (let i = 0; i < 10; i++) {
      t += 1000;
      meter.add(1_000_000);
    }
    expect(meter.rate()).toBeCloseTo(1_000_000, -3);
    t += 8000;
    meter.add(0);
    expect(meter.rate()).toBeLessThan(200_000);
  });

  it('reports bytes, rate and time left for the whole model, throttled but never dropping a finished file', () => {
    let t = 0;
    const events: DownloadProgress[] = [];
    const r = new ProgressReporter('m', 10_000_000, (p) => events.push(p), () => t, 100);
    r.seed('(cached)', 2_000_000);
    for (let i = 1; i <= 8; i++) {
      t += 50;
      r.update('w', i * 1_000_000, 8_000_000, 1_000_000, i === 8);
    }
    expect(events.map((e) => e.loaded)).toEqual([1_000_000, 3_000_000, 5_000_000, 7_000_000, 8_000_000]);
    const mid = events[2] as DownloadProgress;
    expect(mid.modelLoaded).toBe(7_000_000);
    expect(mid.bytesPerSecond).toBeCloseTo(20_000_000, -4);
    expect(mid.secondsLeft).toBeCloseTo(0.15, 2);
    expect(describeProgress(mid)).toEqual({ fraction: 0.7, text: '7.00 MB of 10.0 MB · 20.0 MB/s · 1 s left (w)' });
    expect((events[4] as DownloadProgress).secondsLeft).toBe(0);
  });
});
