import body from './concat.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { numel } from '../tensor';
import { expectParam, expectSignature } from './signature';
import { wgslModule } from './wgsl-module';

export interface ConcatParams {
  shapeA: readonly number[];
  shapeB: readonly number[];
  /** Axis to join along; negative counts from the end (-1 is the last axis). */
  axis: number;
}

const wgsl = wgslModule({ preludes: ['binary-operands'] }, body);
const WORKGROUP = 64;

function normalAxis(p: ConcatParams): number {
  return p.axis < 0 ? p.axis + p.shapeA.length : p.axis;
}

/** The operands as [outer, size, inner] around the axis. */
function view(p: ConcatParams): { outer: number; sizeA: number; sizeB: number; inner: number } {
  const axis = normalAxis(p);
  return {
    outer: numel(p.shapeA.slice(0, axis)),
    sizeA: p.shapeA[axis] ?? 0,
    sizeB: p.shapeB[axis] ?? 0,
    inner: numel(p.shapeA.slice(axis + 1)),
  };
}

/** The joined shape, assuming the operands agree elsewhere (validate() checks that). */
export function concatShape(p: ConcatParams): number[] {
  const axis = normalAxis(p);
  return p.shapeA.map((d, i) => (i === axis ? d + (p.shapeB[i] ?? 0) : d));
}

/** One run: the params, the output shape, the [outer, size, inner] view and the grid, derived once. */
interface ConcatRun extends ConcatParams {
  outShape: number[];
  view: ReturnType<typeof view>;
  grid: [number, number, number];
}

function resolve(p: ConcatParams, ctx: KernelContext): ConcatRun {
  const outShape = concatShape(p);
  return { ...p, outShape, view: view(p), grid: dispatch1d(Math.ceil(numel(outShape) / WORKGROUP), ctx) };
}

/** out = a and b joined along params.axis; every other size must agree. */
export const concat: KernelSpec<ConcatParams, ConcatRun> = {
  name: 'concat',
  wgsl,
  resolve,
  validate(inputs, outputs, p) {
    const tensors = [...inputs, ...outputs];
    const rank = p.shapeA.length;
    expectParam('concat', rank >= 1 && p.axis >= -rank && p.axis < rank, `axis ${p.axis} is outside rank ${rank}`, tensors);
    const axis = normalAxis(p);
    const agree = p.shapeB.length === rank && p.shapeA.every((d, i) => i === axis || d === p.shapeB[i]);
    expectParam('concat', agree, `operands must match on every axis but ${axis}`, tensors);
    expectSignature('concat', inputs, outputs, {
      inputs: [
        { name: 'a', dtype: 'f32', shape: p.shapeA },
        { name: 'b', dtype: 'f32', shape: p.shapeB },
      ],
      outputs: [{ name: 'out', dtype: 'f32', shape: p.outShape }],
    });
  },
  entryPoint: () => 'concat',
  pipelineKey: () => 'concat.f32',
  uniforms(p) {
    const v = p.view;
    return new Uint32Array([v.outer, v.sizeA, v.sizeB, v.inner, numel(p.outShape), p.grid[0] * WORKGROUP]).buffer;
  },
  dispatch: (p) => p.grid,
};
