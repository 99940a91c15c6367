import body from './sum-squares.wgsl?raw';
import type { KernelSpec } from '../kernel';
import { numel } from '../tensor';
import { expectParam } from './signature';
import { wgslModule } from './wgsl-module';

export interface SumSquaresParams {
  /** N: values in x (any shape). */
  n: number;
  /** S: length of the sums output; 1 when absent. */
  slots?: number;
  /** Which element of sums receives the total; 0 when absent. */
  slot?: number;
  /** Add into sums[slot] instead of overwriting it (a total over several tensors). */
  accumulate?: boolean;
}

/** Invocations of the one workgroup, as the shader's WG; each sums every WG-th square before the tree. */
export const SUM_SQUARES_WORKGROUP = 256;

const NAME = 'sum-squares';

/**
 * sums [S] gets sum(x^2) at `slot` (or adds it, with accumulate); inputs (x).
 * The 2-norm of a gradient set is the square root of the accumulated total.
 */
export const sumSquares: KernelSpec<SumSquaresParams> = {
  name: NAME,
  wgsl: wgslModule({ preludes: ['reductions'] }, body),
  validate(inputs, outputs, p) {
    const all = [...inputs, ...outputs];
    const slots = p.slots ?? 1;
    const slot = p.slot ?? 0;
    expectParam(NAME, inputs.length === 1 && outputs.length === 1, `expects 1 input (x) and 1 output (sums), got ${inputs.length} and ${outputs.length}`, all);
    expectParam(NAME, Number.isInteger(p.n) && p.n >= 1, `n must be a positive integer, got ${p.n}`, all);
    expectParam(NAME, Number.isInteger(slots) && slots >= 1, `slots must be a positive integer, got ${slots}`, all);
    expectParam(NAME, Number.isInteger(slot) && slot >= 0 && slot < slots, `slot must be an integer in [0, ${slots}), got ${slot}`, all);
    const [x, sums] = [inputs[0], outputs[0]];
    if (!x || !sums) return;
    expectParam(NAME, x.dtype === 'f32', `x must be f32, got dtype ${x.dtype}`, all);
    expectParam(NAME, numel(x.shape) === p.n, `x must hold ${p.n} values, got ${numel(x.shape)}`, all);
    expectParam(NAME, sums.dtype === 'f32', `sums must be f32, got dtype ${sums.dtype}`, all);
    expectParam(NAME, sums.shape.length === 1 && sums.shape[0] === slots, `sums must be [${slots}], got [${sums.shape.join(',')}]`, all);
    expectParam(NAME, x.buffer !== sums.buffer, 'x and sums must be distinct buffers', all);
  },
  entryPoint: () => 'main',
  constants: (p) => ({ accumulate: p.accumulate === true ? 1 : 0 }),
  pipelineKey: (p) => `${NAME}.main${p.accumulate === true ? '.accumulate' : ''}`,
  uniforms: (p) => new Uint32Array([p.n, p.slot ?? 0]).buffer,
  dispatch: () => [1, 1, 1],
};
