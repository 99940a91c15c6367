import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { im2col, im2colShape, type Im2colParams } from '../../src/webgpu/kernels/im2col';
import { im2colRef } from '../../src/webgpu/reference/im2col';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

// 1-sized everything, 1x1 patches, a grid that does not divide the image
// (edge pixels dropped), non-square images, and a ViT-like 16x16 patch.
const CASES: Im2colParams[] = [
  { batch: 1, channels: 1, height: 1, width: 1, patch: 1 },
  { batch: 2, channels: 1, height: 5, width: 7, patch: 1 },
  { batch: 1, channels: 3, height: 4, width: 4, patch: 2 },
  { batch: 2, channels: 3, height: 10, width: 9, patch: 3 },
  { batch: 1, channels: 2, height: 7, width: 14, patch: 7 },
  { batch: 2, channels: 3, height: 32, width: 48, patch: 16 },
];

function label(p: Im2colParams): string {
  return `B=${p.batch} Cin=${p.channels} ${p.height}x${p.width} P=${p.patch}`;
}

/**
 * PyTorch's Conv2d(Cin, Cout, kernel_size=P, stride=P) written out directly,
 * then flatten(2).transpose(1, 2): [B, GH*GW, Cout].
 */
function naivePatchConv(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  p: Im2colParams,
): Float64Array {
  const cout = bias.length;
  const gh = Math.floor(p.height / p.patch);
  const gw = Math.floor(p.width / p.patch);
  const out = new Float64Array(p.batch * gh * gw * cout);
  for (let b = 0; b < p.batch; b++) {
    for (let co = 0; co < cout; co++) {
      for (let oy = 0; oy < gh; oy++) {
        for (let ox = 0; ox < gw; ox++) {
          let s = bias[co] as number;
          for (let ci = 0; ci < p.channels; ci++) {
            for (let ky = 0; ky < p.patch; ky++) {
              for (let kx = 0; kx < p.patch; kx++) {
                const xAt = ((b * p.channels + ci) * p.height + oy * p.patch + ky) * p.width + ox * p.patch + kx;
                const wAt = ((co * p.channels + ci) * p.patch + ky) * p.patch + kx;
                s += (x[xAt] as number) * (weight[wAt] as number);
              }
            }
          }
          out[((b * gh + oy) * gw + ox) * cout + co] = s;
        }
      }
    }
  }
  return out;
}

/** patches [R, K] x weight [Cout, K]^T + bias: the matmul the patch embedding runs after im2col. */
function patchesTimesWeight(
  patches: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  k: number,
): Float64Array {
  const cout = bias.length;
  const rows = patches.length / k;
  const out = new Float64Array(rows * cout);
  for (let r = 0; r < rows; r++) {
    for (let co = 0; co < cout; co++) {
      let s = bias[co] as number;
      for (let i = 0; i < k; i++) s += (patches[r * k + i] as number) * (weight[co * k + i] as number);
      out[r * cout + co] = s;
    }
  }
  return out;
}

describe('im2col kernel', () => {
  for (const p of CASES) {
    it(`${label(p)}: reference times the Conv2d weight equals the convolution`, () => {
      const rng = new Rng(p.height * 100 + p.width + p.patch);
      const cout = 5;
      const x = rng.floats(p.batch * p.channels * p.height * p.width, -1, 1);
      const weight = rng.floats(cout * p.channels * p.patch * p.patch, -1, 1);
      const bias = rng.floats(cout, -1, 1);
      const [, k] = im2colShape(p);
      const viaPatches = patchesTimesWeight(im2colRef(x, p), weight, bias, k);
      // Both sides are f64 sums of the same products in different orders.
      expectClose(viaPatches, naivePatchConv(x, weight, bias, p), 1e-12, label(p));
    });

    it(`${label(p)}: kernel matches the reference`, async () => {
      const x = new Rng(p.height * 7 + p.width * 3 + p.batch).floats(p.batch * p.channels * p.height * p.width, -1, 1);
      const pixels = { data: x, shape: [p.batch, p.channels, p.height, p.width] };
      const [out] = await runKernel(rt, im2col, [pixels], [{ shape: im2colShape(p) }], p);
      // A pure gather: every element must come through bit for bit.
      expectClose(out ?? [], im2colRef(x, p), TOLERANCE.f32Exact, label(p));
    });
  }

  it('rejects a wrong shape, dtype or patch before dispatch, naming the kernel and shapes', () => {
    const p: Im2colParams = { batch: 1, channels: 3, height: 4, width: 6, patch: 2 };
    const pixels = rt.empty([1, 3, 4, 6], 'f32', 'pixels');
    const nhwc = rt.empty([1, 4, 6, 3], 'f32', 'pixels.nhwc');
    const out = rt.empty([6, 12], 'f32', 'patches');
    expect(() => rt.run(im2col, [nhwc], [out], p)).toThrow(KernelInputError);
    const named = /im2col: pixels must be \[1,3,4,6\], got \[1,4,6,3\].*\[1,4,6,3\] \[6,12\]/;
    expect(() => rt.run(im2col, [nhwc], [out], p)).toThrow(named);
    expect(() => rt.run(im2col, [pixels], [rt.empty([6, 12], 'i32', 'patches.i32')], p)).toThrow(/im2col: patches must be f32/);
    expect(() => rt.run(im2col, [pixels], [out], { ...p, patch: 5 })).toThrow(/im2col: patch 5 must be >= 1 and fit in 4x6/);
  });
});
