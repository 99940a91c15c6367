/**
 * The one typed interface between the page and the engine in the worker.
 * The worker implements it (engine.ts), the page gets it through Comlink
 * (client.ts). Every method may reject with a VlmError ({code, message}).
 */
import type { AdapterReport } from '../webgpu/device';

export interface GpuInfo {
  report: AdapterReport;
  /** One line for the status bar, e.g. "google swiftshader (software fallback)". */
  name: string;
}

export interface SelfTestResult {
  kernel: string;
  n: number;
  /** Largest |gpu - cpu| over all elements. */
  maxAbsError: number;
  tolerance: number;
  passed: boolean;
  /** The first few elements of each operand and result, for display. */
  sample: { a: number[]; b: number[]; gpu: number[]; cpu: number[] };
  ms: number;
}

export interface KernelCheckResult {
  name: string;
  /** Largest error relative to 1 + |reference|. */
  maxError: number;
  tolerance: number;
  passed: boolean;
  ms: number;
}

export interface VlmApi {
  /** Acquire the GPU (once) and describe it. */
  info(): Promise<GpuInfo>;
  /** Run one small kernel on seeded data and compare it with its CPU reference. */
  selfTest(n?: number, seed?: number): Promise<SelfTestResult>;
  /** Run the kernel subset (matmul, attention, a backward) against CPU references. */
  kernelChecks(): Promise<KernelCheckResult[]>;
}
