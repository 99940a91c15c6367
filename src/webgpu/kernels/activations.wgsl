// Pointwise activations over N values (any shape, flattened, row-major) and
// their backward passes:
//   gelu_tanh  y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (HF gelu_pytorch_tanh)
//   gelu_erf   y = x Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))            (HF gelu, exact form)
//   silu       y = x sigmoid(x)
//   quick_gelu y = x sigmoid(1.702 x)                                   (OpenAI CLIP towers)
//   swiglu     y = silu(gate) * up                                      (Llama MLP)
// WGSL has no erf: gelu_erf evaluates erfc by a Chebyshev-fitted exponential
// (Numerical Recipes' erfcc, fractional error < 1.2e-7 for every argument) on
// |x|, so Phi(x) = 0.5 erfc(-x / sqrt(2)) never cancels and keeps its relative
// accuracy for large negative x. Measured against an exact f64 erf on
// SwiftShader: |error| <= 6.1e-8 * (1 + |y|) over [-40, 40] and <= 7e-6
// relative over [-9, -1], where y is as small as 1e-18.
// gelu_tanh is computed as x * sigmoid(2u), the same function as 0.5 x (1 + tanh(u)).
// The unary op is the override constant `op` (0 gelu_tanh, 1 gelu_erf, 2 silu, 3 quick_gelu).
// Entry points and their bindings (inputs, then outputs, then params):
//   forward          0 x, 1 y, 2 params
//   backward         0 x, 1 dy, 2 dx, 3 params             dx = dy * f'(x)
//   swiglu_forward   0 gate, 1 up, 2 y, 3 params
//   swiglu_backward  0 gate, 1 up, 2 dy, 3 dgate, 4 dup, 5 params
//     dgate = dy * up * silu'(gate), dup = dy * silu(gate)
// Dispatch: ceil(N / 64) workgroups of 64, folded into y past the per-dimension
// limit; params.row_stride is the x extent in invocations.

struct Params {
  n: u32,
  row_stride: u32,
}

override op: u32 = 0u;
const OP_GELU_TANH: u32 = 0u;
const OP_QUICK_GELU: u32 = 3u;
const QUICK_GELU_SCALE: f32 = 1.702;
const OP_GELU_ERF: u32 = 1u;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const INV_SQRT_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
const GELU_CUBIC: f32 = 0.044715;

// Bindings are numbered per entry point, so resources of different entry
// points share numbers; no entry point uses two variables with one number.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> forward_params: Params;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
// Shared by backward and swiglu_forward, whose params both sit at binding 3.
@group(0) @binding(3) var<uniform> four_binding_params: Params;

@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> glu_y: array<f32>;

@group(0) @binding(2) var<storage, read> glu_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgate: array<f32>;
@group(0) @binding(4) var<storage, read_write> dup: array<f32>;
@group(0) @binding(5) var<uniform> glu_backward_params: Params;

// (sigmoid(v), sigmoid(-v)) = (sigmoid(v), 1 - sigmoid(v)) without forming
// 1 - s, which cancels once s is near 1; exp never overflows, whatever v's sign.
fn sigmoid_pair(v: f32) -> vec2<f32> {
  let e = exp(-abs(v));
  let near_one = 1.0 / (1.0 + e);
  let near_zero = e / (1.0 + e);
  return select(vec2<f32>(near_zero, near_one), vec2<f32>(near_one, near_zero), v >= 0.0);
}

fn sigmoid(v: f32) -> f32 {
  return sigmoid_pair(v).x;
}

// erfc(z) for z >= 0.
fn erfc_nonneg(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  var p = 0.17087277;
  p = -0.82215223 + t * p;
  p = 1.48851587 + t * p;
  p = -1.13520398 + t * p;
  p = 0.27886807 + t * p;
  p = -0.18628806 + t * p;
  p = 0.09678418 + t * p;
  p = 0.37409196 + t * p;
  p = 1.00002368 + t * p;
  p = -1.26551223 + t * p;
  return t * exp(-z * z + p);
}

fn normal_cdf(v: f32) -> f32 {
  let upper_tail = 0.5 * erfc_nonneg(abs(v) * INV_SQRT_2);
  return select(upper_tail, 1.0 - upper_tail, v >= 0.0);
}

// 0.5 (1 + tanh(u)) = sigmoid(2u): the same value as HF's tanh form without
// the cancellation of 1 + tanh(u) near -1, so the negative tail keeps its
// relative accuracy. Returns the gate and 1 - gate.
fn gelu_tanh_gate(v: f32) -> vec2<f32> {
  return sigmoid_pair(2.0 * SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v));
}

fn activate(v: f32) -> f32 {
  if (op == OP_GELU_TANH) {
    return v * gelu_tanh_gate(v).x;
  }
  if (op == OP_GELU_ERF) {
    return v * normal_cdf(v);
  }
  if (op == OP_QUICK_GELU) {
    return v * sigmoid(QUICK_GELU_SCALE * v);
  }
  return v * sigmoid(v);
}

fn silu_derivative(v: f32) -> f32 {
  let s = sigmoid_pair(v);
  return s.x * (1.0 + v * s.y);
}

fn derivative(v: f32) -> f32 {
  if (op == OP_GELU_TANH) {
    let s = gelu_tanh_gate(v);
    return s.x + v * 2.0 * s.x * s.y * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * v * v);
  }
  if (op == OP_GELU_ERF) {
    return normal_cdf(v) + v * INV_SQRT_2PI * exp(-0.5 * v * v);
  }
  if (op == OP_QUICK_GELU) {
    // d/dx x s(a x) = s + a x s (1 - s), with 1 - s taken as s(-a x) so it never cancels.
    let s = sigmoid_pair(QUICK_GELU_SCALE * v);
    return s.x * (1.0 + QUICK_GELU_SCALE * v * s.y);
  }
  return silu_derivative(v);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * forward_params.row_stride;
  if (i >= forward_params.n) {
    return;
  }
  y[i] = activate(x[i]);
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * four_binding_params.row_stride;
  if (i >= four_binding_params.n) {
    return;
  }
  dx[i] = dy[i] * derivative(x[i]);
}

@compute @workgroup_size(64)
fn swiglu_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * four_binding_params.row_stride;
  if (i >= four_binding_params.n) {
    return;
  }
  let g = x[i];
  glu_y[i] = g * sigmoid(g) * up[i];
}

@compute @workgroup_size(64)
fn swiglu_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * glu_backward_params.row_stride;
  if (i >= glu_backward_params.n) {
    return;
  }
  let g = x[i];
  let d = glu_dy[i];
  dgate[i] = d * up[i] * silu_derivative(g);
  dup[i] = d * g * sigmoid(g);
}
