// Elementwise binary ops on two tensors of N values each (any shape, flattened,
// row-major, same element count): out[i] = a[i] op b[i]; and the unary
// out[i] = a[i] * s for a scalar s (its backward is the same op on dout).
// Entry points are the variants: add, mul, scale.
// Bindings: add, mul: 0 a: array<f32> [N] (read), 1 b: array<f32> [N] (read),
//                     2 out: array<f32> [N] (write), 3 params (uniform).
//           scale:    0 a [N] (read), 1 out [N] (write), 2 scale_params (uniform).
// Dispatch: ceil(N / 64) workgroups of 64, folded into y past the per-dimension
// limit; params.row_stride is the x extent in invocations.
// Preludes: binary-operands (a, b, out, params at bindings 0-3, flat_index).

struct Params {
  n: u32,
  row_stride: u32,
}

struct ScaleParams {
  n: u32,
  row_stride: u32,
  s: f32,
}

// scale numbers its bindings on its own; no entry point uses two variables
// with one number.
@group(0) @binding(1) var<storage, read_write> scaled: array<f32>;
@group(0) @binding(2) var<uniform> scale_params: ScaleParams;

@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= params.n) {
    return;
  }
  out[i] = a[i] + b[i];
}

@compute @workgroup_size(64)
fn mul(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= params.n) {
    return;
  }
  out[i] = a[i] * b[i];
}

@compute @workgroup_size(64)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * scale_params.row_stride;
  if (i >= scale_params.n) {
    return;
  }
  scaled[i] = a[i] * scale_params.s;
}
