// Softmax over the last dim, numerically stable (the row max is subtracted
// before exp), and its backward:
//   y[n, c]  = exp(x[n, c] - max_c x[n, :]) / sum_c exp(x[n, :] - max)
//   dx[n, c] = y[n, c] * (dy[n, c] - sum_c(dy[n, :] * y[n, :]))
// Shapes: x, y, dy, dx [N, C]; C is the softmaxed dim (V for logits, S for
// attention scores) and may be large: each invocation loops over its share of
// the row. -inf entries (masks) get y = 0; a row that is all -inf gives NaN,
// as in PyTorch.
// Entry points and their bindings (inputs, then outputs, then params):
//   forward   0 x, 1 y, 2 params
//   backward  0 y, 1 dy, 2 dx, 3 params
// Dispatch: one workgroup of 64 per row (N groups, folded into y past the
// per-dimension limit; the row is rebuilt from num_workgroups.x).
// Preludes: reductions (workgroup_max and workgroup_sum over f32).

struct Params {
  rows: u32,
  cols: u32,
}

const WG: u32 = 64u;
alias reduce_t = f32;
// Starting the running max here rather than at -inf keeps exp(m - m') finite
// when every value seen so far is -inf.
const LOWEST: f32 = -3.4028234663852886e38;

// Bindings are numbered per entry point, so resources of different entry
// points share numbers; no entry point uses two variables with one number.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> fwd_params: Params;

@group(0) @binding(0) var<storage, read> y_in: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> bwd_params: Params;

@compute @workgroup_size(WG)
fn forward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * groups.x;
  if (row >= fwd_params.rows) {
    return;
  }
  let cols = fwd_params.cols;
  let base = row * cols;
  // Online max and rescaled sum: one read of x for both statistics.
  var m = LOWEST;
  var s = 0.0;
  for (var c = lid; c < cols; c += WG) {
    let v = x[base + c];
    if (v > m) {
      s *= exp(m - v);
      m = v;
    }
    s += exp(v - m);
  }
  let row_max = workgroup_max(lid, m);
  let total = workgroup_sum(lid, s * exp(m - row_max));
  for (var c = lid; c < cols; c += WG) {
    y[base + c] = exp(x[base + c] - row_max) / total;
  }
}

@compute @workgroup_size(WG)
fn backward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * groups.x;
  if (row >= bwd_params.rows) {
    return;
  }
  let cols = bwd_params.cols;
  let base = row * cols;
  var dot = 0.0;
  for (var c = lid; c < cols; c += WG) {
    dot += dy[base + c] * y_in[base + c];
  }
  let total = workgroup_sum(lid, dot);
  for (var c = lid; c < cols; c += WG) {
    dx[base + c] = y_in[base + c] * (dy[base + c] - total);
  }
}
