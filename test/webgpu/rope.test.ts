import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { rope, ropeBackward, type RopeParams } from '../../src/webgpu/kernels/rope';
import { ropeBackwardRef, ropeRef } from '../../src/webgpu/reference/rope';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectGradientsMatch } from '../helpers/grad-check';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

// [B, T, H, D]: 1-sized dims, the smallest head (D = 2), D/2 odd (6, 130), a Llama-sized head.
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 2],
  [1, 3, 1, 6],
  [2, 5, 3, 6],
  [1, 5, 2, 64],
  [2, 3, 3, 130],
  [1, 7, 4, 128],
];

function params([batch, seq, heads, headDim]: [number, number, number, number], theta = 10_000): RopeParams {
  return { batch, seq, heads, headDim, theta };
}

async function run(p: RopeParams, x: Float32Array, positions: Int32Array) {
  const shape = [p.batch, p.seq, p.heads, p.headDim];
  const ins = [
    { data: x, shape },
    { data: positions, shape: [p.batch, p.seq] },
  ];
  const [y] = await runKernel(rt, rope, ins, [{ shape }], p);
  const [dx] = await runKernel(rt, ropeBackward, ins, [{ shape }], p);
  return { y: y as Float32Array, dx: dx as Float32Array };
}

function randomPositions(rng: Rng, n: number, max: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(0, max));
}

describe('rope reference', () => {
  it('backward matches finite differences of the forward', () => {
    const p = params([2, 3, 2, 6]);
    const rng = new Rng(41);
    const x = rng.floats(2 * 3 * 2 * 6);
    const dy = rng.floats(x.length);
    const positions = randomPositions(rng, 6, 50);
    expectGradientsMatch(([xs]) => ropeRef(xs as Float64Array, positions, p), [Float64Array.from(x)], dy, { 0: ropeBackwardRef(dy, positions, p) }, 'rope');
  });

  it('the inverse rotation is the gradient of the forward (finite differences)', () => {
    const p = params([1, 4, 3, 8]);
    const rng = new Rng(46);
    const x = rng.floats(4 * 3 * 8);
    const dy = rng.floats(x.length);
    const positions = randomPositions(rng, 4, 50);
    const grad = ropeRef(dy, positions, { ...p, inverse: true });
    expectGradientsMatch(([xs]) => ropeRef(xs as Float64Array, positions, p), [Float64Array.from(x)], dy, { 0: grad }, 'rope inverse');
  });
});

describe('rope kernel', () => {
  for (const shape of SHAPES) {
    it(`[B,T,H,D]=[${shape.join(',')}] forward and backward match the reference`, async () => {
      const p = params(shape);
      const rng = new Rng(shape.reduce((a, b) => a * 31 + b, 7));
      const x = rng.floats(shape.reduce((a, b) => a * b, 1), -2, 2);
      const positions = randomPositions(rng, p.batch * p.seq, 100);
      const got = await run(p, x, positions);
      expectClose(got.y, ropeRef(x, positions, p), TOLERANCE.f32Rope, `y [${shape.join(',')}]`);
      expectClose(got.dx, ropeBackwardRef(x, positions, p), TOLERANCE.f32Rope, `dx [${shape.join(',')}]`);
    });
  }

  // The decoder's backward calls rope by name with inverse set: the gradient of
  // the rotation is the rotation by -angle.
  it('inverse rotates by the negative angle and undoes the forward', async () => {
    const shape: [number, number, number, number] = [2, 3, 2, 6];
    const p = params(shape);
    const inverse = { ...p, inverse: true };
    const rng = new Rng(45);
    const x = rng.floats(2 * 3 * 2 * 6, -2, 2);
    const positions = randomPositions(rng, 6, 100);
    const dims = [p.batch, p.seq, p.heads, p.headDim];
    const posIn = { data: positions, shape: [p.batch, p.seq] };
    const [back] = await runKernel(rt, rope, [{ data: x, shape: dims }, posIn], [{ shape: dims }], inverse);
    expectClose(back as Float32Array, ropeBackwardRef(x, positions, p), TOLERANCE.f32Rope, 'rope inverse vs the backward reference');
    expectClose(back as Float32Array, ropeRef(x, positions, inverse), TOLERANCE.f32Rope, 'rope inverse vs ropeRef(inverse)');
    const { y } = await run(p, x, positions);
    const [roundTrip] = await runKernel(rt, rope, [{ data: y, shape: dims }, posIn], [{ shape: dims }], inverse);
    expectClose(roundTrip as Float32Array, x, TOLERANCE.f32Rope, 'rope inverse of rope');
    // On rope-backward, inverse gives the forward rotation back.
    const [forwardAgain] = await runKernel(rt, ropeBackward, [{ data: x, shape: dims }, posIn], [{ shape: dims }], inverse);
    expectClose(forwardAgain as Float32Array, ropeRef(x, positions, p), TOLERANCE.f32Rope, 'rope-backward inverse');
  });

  it('takes rope_theta from params (Qwen2 uses 1e6)', async () => {
    const p = params([1, 4, 2, 64], 1_000_000);
    const rng = new Rng(42);
    const x = rng.floats(4 * 2 * 64);
    const positions = Int32Array.from([0, 1, 2, 3]);
    const got = await run(p, x, positions);
    expectClose(got.y, ropeRef(x, positions, p), TOLERANCE.f32Rope, 'y theta=1e6');
    const wrongTheta = ropeRef(x, positions, { ...p, theta: 10_000 });
    expect(Math.max(...got.y.map((v, i) => Math.abs(v - (wrongTheta[i] as number))))).toBeGreaterThan(1e-3);
  });

  // With D = 2 the only frequency is 1, so the f32 angle is the position itself,
  // exactly: what is left is the kernel's own range reduction and sin/cos.
  it('reduces large exact angles to ~1e-7 (D = 2, positions up to 131071)', async () => {
    const p = params([1, 8, 1, 2]);
    const x = new Rng(44).floats(16);
    const positions = Int32Array.from([7, 100, 1000, 4097, 16_385, 50_000, 100_003, 131_071]);
    const got = await run(p, x, positions);
    expectClose(got.y, ropeRef(x, positions, p), TOLERANCE.f32Transcendental, 'y, D=2');
    expectClose(got.dx, ropeBackwardRef(x, positions, p), TOLERANCE.f32Transcendental, 'dx, D=2');
  });

  // At a power-of-two position the f32 angle is exactly position * inv_freq,
  // so the angle read back from (cos, sin) exposes inv_freq itself, in whole
  // ulps. HF's is the f32 rounding of 1 / theta^(2i/D), itself up to about an
  // ulp from the correctly rounded value; the kernel must be within one ulp of
  // that (builtin pow is 6 ulps off), its own sin/cos adding ~1e-7 rad.
  it('computes inverse frequencies to within one f32 ulp', async () => {
    const p = params([1, 1, 1, 128]);
    const position = 65_536;
    const x = new Float32Array(128).fill(1, 0, 64);
    const { y } = await run(p, x, Int32Array.from([position]));
    const ulpsOff = Array.from({ length: 64 }, (_, i) => {
      const invFreq = Math.fround(p.theta ** (-(2 * i) / p.headDim));
      const ulp = 2 ** (Math.floor(Math.log2(invFreq)) - 23);
      const angle = Math.atan2(y[i + 64] as number, y[i] as number);
      const want = position * invFreq;
      const diff = angle - want - 2 * Math.PI * Math.round((angle - want) / (2 * Math.PI));
      return Math.round(Math.abs(diff) / (position * ulp));
    });
    expect(Math.max(...ulpsOff), `ulps off per frequency: ${ulpsOff.join(' ')}`).toBeLessThanOrEqual(1);
  });

  it('stays accurate at long-context positions', async () => {
    const p = params([1, 8, 1, 64]);
    const rng = new Rng(43);
    const x = rng.floats(8 * 64);
    const positions = Int32Array.from([0, 1, 4095, 8191, 16_383, 32_767, 65_535, 131_071]);
    const got = await run(p, x, positions);
    expectClose(got.y, ropeRef(x, positions, p), TOLERANCE.f32RopeLongContext, 'y at positions up to 131071');
  });

  it('rejects a wrong shape, dtype or odd head size before dispatch, naming the kernel and shapes', () => {
    const p = params([1, 2, 1, 4]);
    const x = rt.empty([1, 2, 1, 4], 'f32', 'x');
    const y = rt.empty([1, 2, 1, 4], 'f32', 'y');
    const floatPos = rt.empty([1, 2], 'f32', 'position');
    expect(() => rt.run(rope, [x, floatPos], [y], p)).toThrow(KernelInputError);
    expect(() => rt.run(rope, [x, floatPos], [y], p)).toThrow(/rope: position must be i32, got dtype f32.*\[1,2,1,4\] \[1,2\] \[1,2,1,4\]/);
    const pos = rt.upload(new Int32Array(2), [1, 2], 'position');
    const flat = rt.empty([2, 4], 'f32', 'dy');
    expect(() => rt.run(ropeBackward, [flat, pos], [y], p)).toThrow(/rope-backward: dy must be \[1,2,1,4\], got \[2,4\]/);
    const odd = rt.empty([1, 2, 1, 3], 'f32', 'x');
    expect(() => rt.run(rope, [odd, pos], [odd], params([1, 2, 1, 3]))).toThrow(/rope: headDim must be even/);
  });
});
