// One AdamW optimizer step, in place, with PyTorch's torch.optim.AdamW semantics:
//   grad *= grad_scale     (clip_grad_norm_'s factor, applied before the step;
//                           1 when unused; the grad buffer itself is not written)
//   param *= 1 - lr * weight_decay                      (decoupled weight decay)
//   m = lerp(m, grad, 1 - beta1)
//   v = beta2 * v + (1 - beta2) * grad^2
//   param -= step_size * m / (sqrt(v) / bias2_sqrt + eps)
// where step_size = lr / (1 - beta1^step) and bias2_sqrt = sqrt(1 - beta2^step)
// are computed on the host in f64, as PyTorch computes them in Python floats.
//
// Shapes: grad, param, m, v all hold the same N values (any shape, flattened).
// In-place convention: the tensors the step updates are outputs, listed after
// the read-only input; their contents before the dispatch are the state the
// step reads, so callers pass the same tensors every step and nothing is
// copied. Tests must not poison them.
// Bindings: 0 grad (read), 1 param (read_write), 2 m (read_write),
//           3 v (read_write), 4 params (uniform).
// Dispatch: ceil(N / 64) workgroups of 64, folded into y past the per-dimension
// limit; params.row_stride is the x extent in invocations.

struct Params {
  n: u32,
  row_stride: u32,
  decay: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  step_size: f32,
  bias2_sqrt: f32,
  grad_scale: f32,
}

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(64)
fn step(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.row_stride;
  if (i >= params.n) {
    return;
  }
  let g = grad[i] * params.grad_scale;
  let m_new = m[i] + (g - m[i]) * params.one_minus_beta1;
  let v_new = v[i] * params.beta2 + params.one_minus_beta2 * g * g;
  let denom = sqrt(v_new) / params.bias2_sqrt + params.eps;
  m[i] = m_new;
  v[i] = v_new;
  param[i] = param[i] * params.decay - params.step_size * m_new / denom;
}
