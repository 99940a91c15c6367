/** Matmul rows of the in-browser kernel checks: the selector's pick, a quantized and a backward kernel. */
import { Rng } from '../../data/random';
import { matmulGradInput, matmulGradWeight } from '../../webgpu/kernels/matmul-grad';
import { matmulInputs } from '../../webgpu/kernels/matmul-params';
import { selectGradVariant, selectMatmul } from '../../webgpu/kernels/matmul-select';
import { dequantize, quantize } from '../../webgpu/quant';
import { matmulBackwardRef, matmulRef } from '../../webgpu/reference/matmul';
import type { KernelCheck } from './kernel-checks';
import { maxRelError, poisoned } from './kernel-checks';

/** f32 sums of K products: K^1.5 ulps (the unit tests justify the bound). */
const f32Tolerance = (k: number) => Math.max(4e-6, k ** 1.5 * 2 ** -24);

function forwardCheck(m: number, k: number, n: number, epilogue: 'none' | 'gelu'): KernelCheck {
  return {
    name: `matmul ${m}x${k}x${n} + bias, ${epilogue} epilogue`,
    tolerance: f32Tolerance(k),
    async run(rt) {
      const rng = new Rng(m + k + n);
      const [x, w, bias] = [rng.floats(m * k), rng.floats(n * k), rng.floats(n)];
      const { spec, variant } = selectMatmul(rt.gpu.report, { m, k, weights: 'f32' });
      const ins = [rt.upload(x, [m, k], 'check.x'), rt.upload(w, [n, k], 'check.w'), rt.upload(bias, [n], 'check.bias')];
      const [tx, tw, tb] = ins as [typeof ins[0], typeof ins[0], typeof ins[0]];
      const y = poisoned(rt, [m, n], 'check.y');
      rt.run(spec, matmulInputs(tx, [tw], { bias: tb }), [y], { variant, m, k, n, bias: true, epilogue });
      const got = await rt.readF32(y);
      for (const t of [...ins, y]) rt.release(t);
      return maxRelError(got, matmulRef(x, w, { m, k, n, bias, epilogue }));
    },
  };
}

const int4Check: KernelCheck = {
  name: 'matmul int4 weights (group 32), decode row',
  tolerance: f32Tolerance(96),
  async run(rt) {
    const [m, k, n] = [1, 96, 40];
    const rng = new Rng(21);
    const x = rng.floats(m * k);
    const q = quantize(rng.floats(n * k), n, k, 4, 32);
    const { spec, variant } = selectMatmul(rt.gpu.report, { m, k, weights: 'int4' });
    const ins = [rt.upload(x, [m, k], 'check.x'), rt.upload(q.packed, [n, q.packed.length / n], 'check.wq'), rt.upload(q.scales, [n, k / 32], 'check.scales')];
    const [tx, tq, ts] = ins as [typeof ins[0], typeof ins[0], typeof ins[0]];
    const y = poisoned(rt, [m, n], 'check.y');
    rt.run(spec, matmulInputs(tx, [tq, ts]), [y], { variant, m, k, n, bits: 4, groupSize: 32 });
    const got = await rt.readF32(y);
    for (const t of [...ins, y]) rt.release(t);
    // Against the dequantized weights the kernel's only error is f32 rounding.
    return maxRelError(got, matmulRef(x, dequantize(q), { m, k, n }));
  },
};

const backwardCheck: KernelCheck = {
  name: 'matmul backward dX and dW',
  tolerance: f32Tolerance(33),
  async run(rt) {
    const [m, k, n] = [7, 13, 33];
    const rng = new Rng(22);
    const [x, w, dy] = [rng.floats(m * k), rng.floats(n * k), rng.floats(m * n)];
    const variant = selectGradVariant(rt.gpu.report);
    const [tx, tw, tdy] = [rt.upload(x, [m, k], 'check.x'), rt.upload(w, [n, k], 'check.w'), rt.upload(dy, [m, n], 'check.dy')];
    const dx = poisoned(rt, [m, k], 'check.dx');
    const dw = poisoned(rt, [n, k], 'check.dw');
    rt.run(matmulGradInput, [tdy, tw], [dx], { variant, m, k, n });
    rt.run(matmulGradWeight, [tdy, tx], [dw], { variant, m, k, n });
    const [gx, gw] = [await rt.readF32(dx), await rt.readF32(dw)];
    for (const t of [tx, tw, tdy, dx, dw]) rt.release(t);
    const want = matmulBackwardRef(dy, x, w, { m, k, n });
    return Math.max(maxRelError(gx, want.dx), maxRelError(gw, want.dw));
  },
};

export const MATMUL_CHECKS: KernelCheck[] = [forwardCheck(17, 64, 33, 'gelu'), forwardCheck(1, 130, 7, 'none'), int4Check, backwardCheck];
