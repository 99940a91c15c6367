import wgsl from './adamw.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { numel } from '../tensor';
import { expectParam, expectSignature } from './signature';

/** torch.optim.AdamW hyperparameters plus the 1-based step count. */
export interface AdamwParams {
  /** Shape of the parameter; grad, m and v have the same. */
  shape: readonly number[];
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1 on the first update, as PyTorch's state['step'] after its increment. */
  step: number;
  /**
   * Multiplies the gradient before the update (1 when absent): gradient
   * clipping's factor (see clipGradScale) or an average over accumulated
   * sequences. Weight decay does not see it, as in PyTorch.
   */
  gradScale?: number;
}

/** Added to the norm before dividing, as torch.nn.utils.clip_grad_norm_ does. */
const CLIP_EPS = 1e-6;

/**
 * torch.nn.utils.clip_grad_norm_'s factor: min(1, maxNorm / (norm + 1e-6)),
 * where norm is the 2-norm over every trained gradient (sqrt of sum-squares'
 * totals); the result is adamw's gradScale.
 */
export function clipGradScale(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + CLIP_EPS));
}

const WORKGROUP = 64;

function grid(p: AdamwParams, ctx: KernelContext): [number, number, number] {
  return dispatch1d(Math.ceil(numel(p.shape) / WORKGROUP), ctx);
}

/** Step-dependent scalars in f64, the way PyTorch forms them before touching tensors. */
export function adamwScalars(p: AdamwParams): { decay: number; stepSize: number; bias2Sqrt: number } {
  return {
    decay: 1 - p.lr * p.weightDecay,
    stepSize: p.lr / (1 - p.beta1 ** p.step),
    bias2Sqrt: Math.sqrt(1 - p.beta2 ** p.step),
  };
}

/**
 * Inputs (grad); outputs (param, m, v), updated in place: their prior
 * contents are the optimizer state, so pass the same tensors every step.
 */
export const adamw: KernelSpec<AdamwParams> = {
  name: 'adamw',
  wgsl,
  validate(inputs, outputs, p) {
    const operand = (name: string) => ({ name, dtype: 'f32' as const, shape: p.shape });
    expectSignature('adamw', inputs, outputs, {
      inputs: [operand('grad')],
      outputs: [operand('param'), operand('m'), operand('v')],
    });
    const tensors = [...inputs, ...outputs];
    expectParam('adamw', Number.isInteger(p.step) && p.step >= 1, `step must be an integer >= 1, got ${p.step}`, tensors);
    const betasOk = p.beta1 >= 0 && p.beta1 < 1 && p.beta2 >= 0 && p.beta2 < 1;
    expectParam('adamw', betasOk, `betas must lie in [0, 1), got ${p.beta1}, ${p.beta2}`, tensors);
    const scale = p.gradScale ?? 1;
    expectParam('adamw', Number.isFinite(scale) && scale >= 0, `gradScale must be a finite number >= 0, got ${scale}`, tensors);
    const buffers = new Set(tensors.map((t) => t.buffer));
    expectParam('adamw', buffers.size === tensors.length, 'grad, param, m and v must be distinct buffers', tensors);
  },
  entryPoint: () => 'step',
  pipelineKey: () => 'adamw.step',
  uniforms(p, ctx) {
    const [x] = grid(p, ctx);
    const { decay, stepSize, bias2Sqrt } = adamwScalars(p);
    const buf = new ArrayBuffer(40);
    new Uint32Array(buf, 0, 2).set([numel(p.shape), x * WORKGROUP]);
    new Float32Array(buf, 8, 8).set([decay, 1 - p.beta1, p.beta2, 1 - p.beta2, p.eps, stepSize, bias2Sqrt, p.gradScale ?? 1]);
    return buf;
  },
  dispatch: (p, ctx) => grid(p, ctx),
};
