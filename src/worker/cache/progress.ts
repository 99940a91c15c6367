/**
 * Download progress as a person reads it: bytes on hand, the recent network
 * rate, and the time left for the whole model at that rate.
 */
import { formatBytes } from './quota';

export interface DownloadProgress {
  model: string;
  /** The file being transferred, e.g. "onnx/decoder_model_merged.onnx". */
  file: string;
  /** Bytes of this file on hand (already cached + received now). */
  loaded: number;
  /** This file's size; 0 while the server has not said. */
  total: number;
  /** The same over every file of the download. */
  modelLoaded: number;
  modelTotal: number;
  /** Network rate over the last few seconds (bytes read from the cache do not count). */
  bytesPerSecond: number;
  /** For the whole model at that rate; null while the rate or the size is unknown. */
  secondsLeft: number | null;
  /** This file is complete and stored. */
  fileDone: boolean;
}

export type ProgressFn = (progress: DownloadProgress) => void;

export type Clock = () => number;
export const realClock: Clock = () => performance.now();

/** Bytes per second over a sliding window, so a stall shows as a falling rate. */
export class RateMeter {
  private readonly samples: { t: number; bytes: number }[] = [];
  private total = 0;

  constructor(
    private readonly now: Clock = realClock,
    private readonly windowMs = 4000,
  ) {
    // The clock starts with the transfer: the first bytes took time to arrive too.
    this.samples.push({ t: now(), bytes: 0 });
  }

  add(bytes: number): void {
    const t = this.now();
    this.total += bytes;
    this.samples.push({ t, bytes: this.total });
    // Keep one sample older than the window as its left edge.
    while (this.samples.length > 2 && t - (this.samples[1] as { t: number }).t > this.windowMs) this.samples.shift();
  }

  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || first === last) return 0;
    const dt = (last.t - first.t) / 1000;
    return dt > 0 ? (last.bytes - first.bytes) / dt : 0;
  }
}

/** Tracks every file of one model download and emits throttled events. */
export class ProgressReporter {
  private readonly meter: RateMeter;
  private readonly loadedByFile = new Map<string, number>();
  private lastEmit = Number.NEGATIVE_INFINITY;

  constructor(
    readonly model: string,
    private modelTotal: number,
    private readonly onProgress: ProgressFn | undefined,
    private readonly now: Clock = realClock,
    private readonly intervalMs = 100,
  ) {
    this.meter = new RateMeter(now);
  }

  /** Bytes on hand before the download started (cached files, resumed chunks): counted, not reported. */
  seed(file: string, loaded: number): void {
    this.loadedByFile.set(file, loaded);
  }

  /** A file whose size was learned only from the response. */
  addToTotal(bytes: number): void {
    this.modelTotal += bytes;
  }

  /** Records bytes of `file` on hand; `received` of them came over the network just now. */
  update(file: string, loaded: number, total: number, received: number, fileDone = false): void {
    if (received > 0) this.meter.add(received);
    this.loadedByFile.set(file, loaded);
    const t = this.now();
    if (!this.onProgress || (!fileDone && t - this.lastEmit < this.intervalMs)) return;
    this.lastEmit = t;
    this.onProgress(this.snapshot(file, loaded, total, fileDone));
  }

  private snapshot(file: string, loaded: number, total: number, fileDone: boolean): DownloadProgress {
    let modelLoaded = 0;
    for (const v of this.loadedByFile.values()) modelLoaded += v;
    const rate = this.meter.rate();
    const left = Math.max(0, this.modelTotal - modelLoaded);
    return {
      model: this.model,
      file,
      loaded,
      total,
      modelLoaded,
      modelTotal: this.modelTotal,
      bytesPerSecond: rate,
      secondsLeft: left === 0 ? 0 : rate > 0 && this.modelTotal > 0 ? left / rate : null,
      fileDone,
    };
  }
}

function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A progress bar's fraction (null while the size is unknown) and its line: "3.10 of 6.13 MB · 12.3 MB/s · 1 s left". */
export function describeProgress(p: DownloadProgress): { fraction: number | null; text: string } {
  const fraction = p.modelTotal > 0 ? Math.min(1, p.modelLoaded / p.modelTotal) : null;
  const parts = [p.modelTotal > 0 ? `${formatBytes(p.modelLoaded)} of ${formatBytes(p.modelTotal)}` : formatBytes(p.modelLoaded)];
  if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.secondsLeft !== null && p.secondsLeft > 0) parts.push(`${formatDuration(p.secondsLeft)} left`);
  return { fraction, text: `${parts.join(' · ')} (${p.file})` };
}
