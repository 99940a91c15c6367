import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { adamw, clipGradScale, type AdamwParams } from '../../src/webgpu/kernels/adamw';
import { adamwRef } from '../../src/webgpu/reference/adamw';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { numel, type Tensor } from '../../src/webgpu/tensor';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

type Hyper = Omit<AdamwParams, 'shape' | 'step'>;

const PYTORCH_DEFAULTS: Hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
const AGGRESSIVE: Hyper = { lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 };

// 1-sized, non-multiple-of-4, a 2-D weight, one past a workgroup, several groups.
const SHAPES: number[][] = [[1], [3], [7, 5], [65], [97, 43]];
const STEPS = 5;

interface HostState {
  param: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

function freshState(rng: Rng, n: number): HostState {
  return { param: rng.floats(n, -1, 1), m: new Float32Array(n), v: new Float32Array(n) };
}

/** State as if training had been running: m signed, v positive. */
function resumedState(rng: Rng, n: number): HostState {
  return { param: rng.floats(n, -1, 1), m: rng.floats(n, -0.1, 0.1), v: rng.floats(n, 1e-6, 1e-2) };
}

/** Runs STEPS updates from `firstStep` on the GPU and the reference; returns both final states. */
async function runSteps(shape: readonly number[], hyper: Hyper, start: HostState, firstStep: number, seed: number) {
  const rng = new Rng(seed);
  const n = numel(shape);
  const param = rt.upload(start.param, shape, 'test.param');
  const m = rt.upload(start.m, shape, 'test.m');
  const v = rt.upload(start.v, shape, 'test.v');
  let want: { param: ArrayLike<number>; m: ArrayLike<number>; v: ArrayLike<number> } = start;
  const grads: Tensor[] = [];
  for (let s = 0; s < STEPS; s++) {
    const g = rng.floats(n, -2, 2);
    const p = { ...hyper, shape, step: firstStep + s };
    const grad = rt.upload(g, shape, 'test.grad');
    grads.push(grad);
    rt.run(adamw, [grad], [param, m, v], p);
    want = adamwRef(g, want, p);
  }
  const got = { param: await rt.readF32(param), m: await rt.readF32(m), v: await rt.readF32(v) };
  for (const t of [param, m, v, ...grads]) rt.release(t);
  return { got, want };
}

describe('adamw kernel', () => {
  const configs: [string, Hyper, (rng: Rng, n: number) => HostState, number][] = [
    ['defaults from step 1', PYTORCH_DEFAULTS, freshState, 1],
    ['large lr and decay, resumed at step 40', AGGRESSIVE, resumedState, 40],
  ];
  for (const [label, hyper, init, firstStep] of configs) {
    for (const shape of SHAPES) {
      it(`${label}, shape [${shape.join(',')}]: ${STEPS} steps match the reference`, async () => {
        const seed = numel(shape) * 17 + firstStep;
        const start = init(new Rng(seed), numel(shape));
        const { got, want } = await runSteps(shape, hyper, start, firstStep, seed + 1);
        // Five chained f32 updates against an f64 reference that never rounds.
        for (const key of ['param', 'm', 'v'] as const) {
          expectClose(got[key], want[key], TOLERANCE.f32Reduction, `${label} [${shape.join(',')}] ${key}`);
        }
      });
    }
  }

  it('gradScale multiplies the gradient before the update (clipping), not the weight decay', async () => {
    const shape = [97, 43];
    const hyper = { ...AGGRESSIVE, gradScale: 0.3 };
    const start = resumedState(new Rng(71), numel(shape));
    const { got, want } = await runSteps(shape, hyper, start, 40, 72);
    for (const key of ['param', 'm', 'v'] as const) {
      expectClose(got[key], want[key], TOLERANCE.f32Reduction, `gradScale 0.3 [${shape.join(',')}] ${key}`);
    }
    const unscaled = await runSteps(shape, AGGRESSIVE, start, 40, 72);
    expect(Math.max(...unscaled.got.v.map((v, i) => Math.abs(v - (got.v[i] as number))))).toBeGreaterThan(1e-4);
    // In the reference: a scaled step is the step on the scaled gradient.
    const g = new Rng(73).floats(5, -2, 2);
    const p = { ...AGGRESSIVE, shape: [5], step: 3 };
    const state = resumedState(new Rng(74), 5);
    const scaled = adamwRef(g, state, { ...p, gradScale: 0.25 });
    const prescaled = adamwRef(g.map((x) => x * 0.25), state, p);
    expectClose(scaled.param, prescaled.param, 1e-15, 'gradScale vs a prescaled gradient');
  });

  it('clipGradScale follows torch clip_grad_norm_: min(1, max_norm / (norm + 1e-6))', () => {
    expect(clipGradScale(10, 1)).toBeCloseTo(1 / (10 + 1e-6), 15);
    expect(clipGradScale(2, 1)).toBeCloseTo(1 / (2 + 1e-6), 15);
    expect(clipGradScale(0.5, 1)).toBe(1);
    expect(clipGradScale(0, 1)).toBe(1);
  });

  it('matches a hand-computed first step', () => {
    // Step 1 from zero state: m_hat = g, v_hat = g^2, so the update is lr * sign(g) up to eps.
    const p = { ...PYTORCH_DEFAULTS, shape: [2], step: 1 };
    const next = adamwRef([0.5, -2], { param: [1, -1], m: [0, 0], v: [0, 0] }, p);
    const decayed = 1 - 1e-3 * 0.01;
    expectClose(next.param, [decayed - 1e-3 * (0.5 / (0.5 + 1e-8)), -decayed + 1e-3 * (2 / (2 + 1e-8))], 1e-12, 'step 1');
  });

  it('rejects a wrong shape, dtype or step before dispatch, naming the kernel and shapes', () => {
    const p = { ...PYTORCH_DEFAULTS, shape: [4, 2], step: 1 };
    const make = (label: string): Tensor => rt.empty([4, 2], 'f32', label);
    const [grad, param, m, v] = [make('grad'), make('param'), make('m'), make('v')];
    const flatV = rt.empty([8], 'f32', 'v.flat');
    const intGrad = rt.empty([4, 2], 'i32', 'grad.i32');
    expect(() => rt.run(adamw, [grad], [param, m, flatV], p)).toThrow(KernelInputError);
    const named = /adamw: v must be \[4,2\], got \[8\].*\[4,2\] \[4,2\] \[4,2\] \[8\]/;
    expect(() => rt.run(adamw, [grad], [param, m, flatV], p)).toThrow(named);
    expect(() => rt.run(adamw, [intGrad], [param, m, v], p)).toThrow(/adamw: grad must be f32, got dtype i32/);
    expect(() => rt.run(adamw, [grad], [param, m, v], { ...p, step: 0 })).toThrow(/adamw: step must be an integer >= 1/);
    expect(() => rt.run(adamw, [grad], [param, m, m], p)).toThrow(/distinct buffers/);
    expect(() => rt.run(adamw, [grad], [param, m, v], { ...p, gradScale: -1 })).toThrow(/adamw: gradScale must be a finite number >= 0/);
    expect(() => rt.run(adamw, [grad], [param, m, v], { ...p, gradScale: Number.NaN })).toThrow(/gradScale/);
  });
});
