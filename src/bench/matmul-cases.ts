/** Matmul benchmark rows: the kernel our selector picks against ORT's MatMul with the weight as an initializer. */
import { Rng } from '../data/random';
import { matmulInputs } from '../webgpu/kernels/matmul-params';
import { matmulFlops, selectMatmul } from '../webgpu/kernels/matmul-select';
import { matmulRef } from '../webgpu/reference/matmul';
import type { GpuRuntime } from '../webgpu/runtime';
import type { BenchCase, Runner } from './bench-case';
import { createOrtOp } from './ort-op';

function ourMatmul(rt: GpuRuntime, m: number, k: number, n: number, x: Float32Array, w: Float32Array): Runner {
  const { spec, variant } = selectMatmul(rt.gpu.report, { m, k, weights: 'f32' });
  const tx = rt.upload(x, [m, k], 'bench.x');
  const tw = rt.upload(w, [n, k], 'bench.w');
  const ty = rt.empty([m, n], 'f32', 'bench.y');
  const inputs = matmulInputs(tx, [tw]);
  return {
    async run() {
      rt.run(spec, inputs, [ty], { variant, m, k, n });
      rt.submit();
      await rt.device.queue.onSubmittedWorkDone();
    },
    output: () => rt.readF32(ty),
    release() {
      for (const t of [tx, tw, ty]) rt.release(t);
    },
  };
}

/** ORT's MatMul wants W as [K, N]; ours keeps HF Linear's [N, K]. */
function transpose(w: Float32Array, n: number, k: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) t[j * n + i] = w[i * k + j] as number;
  return t;
}

function matmulCase(name: string, m: number, k: number, n: number): BenchCase {
  const rng = new Rng(m * 7 + k * 3 + n);
  const x = rng.floats(m * k);
  const w = rng.floats(n * k);
  return {
    op: 'matmul',
    shape: `${name} ${m}x${k}x${n}`,
    flops: matmulFlops(m, k, n),
    ours: (rt) => ourMatmul(rt, m, k, n, x, w),
    reference: () => matmulRef(x, w, { m, k, n }),
    ort: () =>
      createOrtOp(
        {
          opType: 'MatMul',
          inputs: [{ name: 'x', type: 'float', shape: [m, k] }],
          initializers: [{ name: 'w', type: 'float', shape: [k, n], data: transpose(w, n, k) }],
          outputs: [{ name: 'y', type: 'float', shape: [m, n] }],
        },
        { x },
      ),
  };
}

export const MATMUL_CASES: BenchCase[] = [
  matmulCase('decode', 1, 1024, 1024),
  matmulCase('decode', 1, 2048, 2048),
  matmulCase('prefill', 64, 512, 512),
  matmulCase('prefill', 64, 1024, 1024),
  matmulCase('square', 256, 256, 256),
  matmulCase('batch', 32, 1024, 1024),
];

/** SmolVLM's real shapes: the SigLIP MLP's first layer over a 32x32-patch tile, and SmolLM2's gate/up projection for one decoded token. */
export const SMOLVLM_MATMUL_CASES: BenchCase[] = [matmulCase('siglip mlp', 1024, 768, 3072), matmulCase('smollm2 decode', 1, 576, 1536)];
