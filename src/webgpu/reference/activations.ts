/**
 * CPU twins of kernels/activations.wgsl in f64, so finite differences of the
 * forward check the backward exactly. GELU's erf form uses an f64 erf accurate
 * to ~1e-15, the yardstick for the kernel's f32 approximation.
 */
import type { ActivationOp } from '../kernels/activations';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/** erfc(z) for z >= 3 by its continued fraction, evaluated from the tail inwards. */
function erfcContinuedFraction(z: number): number {
  let f = z;
  for (let k = 60; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

/** erf(z) by its Maclaurin series; terms stay below ~1e3 for |z| < 3, so ~1e-13 survives. */
function erfSeries(z: number): number {
  let term = z;
  let sum = z;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (-z * z) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Standard normal CDF, without cancellation in either tail. */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const upperTail = z < 3 ? 0.5 * (1 - erfSeries(z)) : 0.5 * erfcContinuedFraction(z);
  return x >= 0 ? 1 - upperTail : upperTail;
}

function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * 0.5 (1 + tanh(u)) of HF's tanh GELU, written as sigmoid(2u): equal, but
 * 1 + tanh(u) rounds to 0 in f64 once u < -19, which would leave the
 * negative tail with no reference at all.
 */
function geluTanhGate(x: number): number {
  return sigmoid(2 * SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
}

const QUICK_GELU_SCALE = 1.702;

function forwardOne(op: ActivationOp, x: number): number {
  if (op === 'silu') return x * sigmoid(x);
  if (op === 'quick_gelu') return x * sigmoid(QUICK_GELU_SCALE * x);
  if (op === 'gelu_erf') return x * normalCdf(x);
  return x * geluTanhGate(x);
}

function derivativeOne(op: ActivationOp, x: number): number {
  if (op === 'silu') {
    const s = sigmoid(x);
    return s * (1 + x * (1 - s));
  }
  if (op === 'gelu_erf') return normalCdf(x) + x * normalPdf(x);
  if (op === 'quick_gelu') {
    const s = sigmoid(QUICK_GELU_SCALE * x);
    return s * (1 + QUICK_GELU_SCALE * x * sigmoid(-QUICK_GELU_SCALE * x));
  }
  // d/dx sigmoid(2u) = 2 s (1 - s) u'; 1 - s is sigmoid(-2u), formed without cancelling.
  const s = geluTanhGate(x);
  const rest = geluTanhGate(-x);
  return s + x * 2 * s * rest * SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x);
}

export function activationRef(op: ActivationOp, x: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => forwardOne(op, x[i] as number));
}

/** dx = dy * f'(x). */
export function activationBackwardRef(op: ActivationOp, x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => (dy[i] as number) * derivativeOne(op, x[i] as number));
}

/** y = silu(gate) * up (the Llama MLP's gated product). */
export function swigluRef(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: gate.length }, (_, i) => forwardOne('silu', gate[i] as number) * (up[i] as number));
}

export function swigluBackwardRef(
  gate: ArrayLike<number>,
  up: ArrayLike<number>,
  dy: ArrayLike<number>,
): { dgate: Float64Array; dup: Float64Array } {
  const n = gate.length;
  const dgate = new Float64Array(n);
  const dup = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = gate[i] as number;
    const d = dy[i] as number;
    dgate[i] = d * (up[i] as number) * derivativeOne('silu', g);
    dup[i] = d * forwardOne('silu', g);
  }
  return { dgate, dup };
}
