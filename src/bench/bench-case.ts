import type { GpuRuntime } from '../webgpu/runtime';
import type { OrtOp } from './ort-op';

/** One side of a benchmark row: a prepared op that can be run many times. */
export interface Runner {
  run(): Promise<void>;
  output(): Promise<Float32Array>;
  release(): void | Promise<void>;
}

/** The same op and shape, for us and for onnxruntime-web. */
export interface BenchCase {
  op: string;
  shape: string;
  /** Floating-point operations of one run (for GFLOP/s). */
  flops: number;
  ours(rt: GpuRuntime): Runner;
  /** The exact answer (f64 CPU reference), when cheap enough to compute. */
  reference?(): ArrayLike<number>;
  ort(): Promise<OrtOp>;
}

export interface BenchRow {
  op: string;
  shape: string;
  oursMs: number;
  ortMs: number;
  /** ortMs / oursMs: above 1 means ours is faster. */
  ratio: number;
  oursGflops: number;
  ortGflops: number;
  /** Largest |ours - ort| over the outputs, proving both computed the same thing. */
  maxDiff: number;
  /** Largest error of each against the CPU reference (NaN when the case has none). */
  oursErr: number;
  ortErr: number;
}

export interface KernelBenchResult {
  adapter: string;
  rows: BenchRow[];
  /** NaN (null in JSON) when the run was cancelled before it was measured. */
  copyGBps: number;
  /** Stopped by the user: `rows` are the cases done before the stop. */
  cancelled: boolean;
}
