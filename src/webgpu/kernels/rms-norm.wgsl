// RMSNorm over the last dim (Llama's LlamaRMSNorm):
//   y[n, c] = x[n, c] * rstd[n] * weight[c],  rstd[n] = 1 / sqrt(mean_c(x[n, :]^2) + eps).
// Shapes: x, y, dy, dx [N, C]; weight, dweight [C]; rstd [N].
// Entry points and their bindings (inputs, then outputs, then params):
//   forward          0 x, 1 weight, 2 y, 3 params
//   backward_input   0 x, 1 weight, 2 dy, 3 dx, 4 rstd, 5 params
//     dx = rstd * (weight * dy) - x * rstd^3 * mean_c(weight * dy * x); rstd is
//     written for backward_weight, which then needs no second pass over C.
//   backward_weight  0 x, 1 dy, 2 rstd, 3 dweight, 4 params
//     dweight[c] = sum_n dy[n, c] * x[n, c] * rstd[n], added in row order by one
//     invocation per channel: deterministic, no float atomics.
// Dispatch: forward and backward_input run one workgroup of 64 per row (N groups,
// folded into y past the per-dimension limit); backward_weight runs ceil(C / 64)
// groups of 64, also folded. Both rebuild the flat index from num_workgroups.x.
// Preludes: row-norm (Params, WG, bindings x, weight, dy, dx, bwd_params),
// reductions (workgroup_sum over vec2<f32>).

@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> fwd_params: Params;

@group(0) @binding(4) var<storage, read_write> rstd_out: array<f32>;

@group(0) @binding(1) var<storage, read> wgrad_dy: array<f32>;
@group(0) @binding(2) var<storage, read> wgrad_rstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(4) var<uniform> wgrad_params: Params;

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
  var ss = 0.0;
  for (var c = lid; c < cols; c += WG) {
    let v = x[base + c];
    ss += v * v;
  }
  let rstd = inverseSqrt(workgroup_sum(lid, vec2<f32>(ss, 0.0)).x / f32(cols) + fwd_params.eps);
  for (var c = lid; c < cols; c += WG) {
    y[base + c] = x[base + c] * rstd * weight[c];
  }
}

@compute @workgroup_size(WG)
fn backward_input(
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
  // One reduction carries both sums: x^2 for rstd and g * x for the projection.
  var sums = vec2<f32>(0.0);
  for (var c = lid; c < cols; c += WG) {
    let v = x[base + c];
    sums += vec2<f32>(v * v, dy[base + c] * weight[c] * v);
  }
  let total = workgroup_sum(lid, sums) / f32(cols);
  let rstd = inverseSqrt(total.x + bwd_params.eps);
  let k = rstd * rstd * rstd * total.y;
  for (var c = lid; c < cols; c += WG) {
    dx[base + c] = rstd * dy[base + c] * weight[c] - x[base + c] * k;
  }
  if (lid == 0u) {
    rstd_out[row] = rstd;
  }
}

@compute @workgroup_size(WG)
fn backward_weight(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let c = gid.x + gid.y * groups.x * WG;
  let cols = wgrad_params.cols;
  if (c >= cols) {
    return;
  }
  var acc = 0.0;
  for (var n = 0u; n < wgrad_params.rows; n++) {
    let i = n * cols + c;
    acc += wgrad_dy[i] * x[i] * wgrad_rstd[n];
  }
  dweight[c] = acc;
}
