// LayerNorm over the last dim (torch.nn.LayerNorm, biased variance):
//   y[n, c] = (x[n, c] - mean[n]) * rstd[n] * weight[c] + bias[c],
//   rstd[n] = 1 / sqrt(mean_c((x[n, :] - mean[n])^2) + eps).
// Shapes: x, y, dy, dx [N, C]; weight, bias, dweight, dbias [C]; stats [N, 2]
// holding (mean, rstd) per row.
// Entry points and their bindings (inputs, then outputs, then params):
//   forward          0 x, 1 weight, 2 bias, 3 y, 4 params
//   backward_input   0 x, 1 weight, 2 dy, 3 dx, 4 stats, 5 params
//     with xhat = (x - mean) * rstd and g = dy * weight:
//     dx = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)); stats are written
//     for backward_params, which then needs no pass over C per row.
//   backward_params  0 x, 1 dy, 2 stats, 3 dweight, 4 dbias, 5 params
//     dweight[c] = sum_n dy * xhat, dbias[c] = sum_n dy, added in row order by
//     one invocation per channel: deterministic, no float atomics.
// Dispatch: forward and backward_input run one workgroup of 64 per row (N groups,
// folded into y past the per-dimension limit); backward_params runs
// ceil(C / 64) groups of 64, also folded. Both rebuild the flat index from
// num_workgroups.x.
// Preludes: row-norm (Params, WG, bindings x, weight, dy, dx, bwd_params),
// reductions (workgroup_sum over vec2<f32>).

@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> fwd_params: Params;

@group(0) @binding(4) var<storage, read_write> stats_out: array<vec2<f32>>;

@group(0) @binding(1) var<storage, read> pgrad_dy: array<f32>;
@group(0) @binding(2) var<storage, read> pgrad_stats: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(5) var<uniform> pgrad_params: Params;

// Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2,
// which cancels catastrophically in f32 when |mean| >> std.
fn row_stats(lid: u32, base: u32, cols: u32, eps: f32) -> vec2<f32> {
  var sum = 0.0;
  for (var c = lid; c < cols; c += WG) {
    sum += x[base + c];
  }
  let mean = workgroup_sum(lid, vec2<f32>(sum, 0.0)).x / f32(cols);
  var sq = 0.0;
  for (var c = lid; c < cols; c += WG) {
    let d = x[base + c] - mean;
    sq += d * d;
  }
  let variance = workgroup_sum(lid, vec2<f32>(sq, 0.0)).x / f32(cols);
  return vec2<f32>(mean, inverseSqrt(variance + eps));
}

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
  let stats = row_stats(lid, base, cols, fwd_params.eps);
  for (var c = lid; c < cols; c += WG) {
    y[base + c] = (x[base + c] - stats.x) * stats.y * weight[c] + bias[c];
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
  let stats = row_stats(lid, base, cols, bwd_params.eps);
  var sums = vec2<f32>(0.0);
  for (var c = lid; c < cols; c += WG) {
    let g = dy[base + c] * weight[c];
    sums += vec2<f32>(g, g * (x[base + c] - stats.x) * stats.y);
  }
  // (mean_c(g), mean_c(g * xhat))
  let means = workgroup_sum(lid, sums) / f32(cols);
  for (var c = lid; c < cols; c += WG) {
    let xhat = (x[base + c] - stats.x) * stats.y;
    dx[base + c] = stats.y * (dy[base + c] * weight[c] - means.x - xhat * means.y);
  }
  if (lid == 0u) {
    stats_out[row] = stats;
  }
}

@compute @workgroup_size(WG)
fn backward_params(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let c = gid.x + gid.y * groups.x * WG;
  let cols = pgrad_params.cols;
  if (c >= cols) {
    return;
  }
  var dw = 0.0;
  var db = 0.0;
  for (var n = 0u; n < pgrad_params.rows; n++) {
    let i = n * cols + c;
    let stats = pgrad_stats[n];
    let g = pgrad_dy[i];
    dw += g * (x[i] - stats.x) * stats.y;
    db += g;
  }
  dweight[c] = dw;
  dbias[c] = db;
}
