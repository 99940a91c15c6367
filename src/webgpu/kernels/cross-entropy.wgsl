// Cross-entropy of logits against integer targets, and its gradient.
//
// forward:  loss[n] = logsumexp(logits[n, :]) - logits[n, targets[n]]
// backward: dlogits[n, v] = (softmax(logits[n, :])[v] - (v == targets[n])) * scale
//
// Shapes: logits and dlogits [N, V] f32, targets [N] i32, loss [N] f32.
// A target of -100 (PyTorch's ignore_index) gives loss 0 and a zero gradient
// row; the host counts the other rows and passes scale = 1 / count (times any
// upstream gradient) so the gradient is that of the mean loss. A target
// outside [0, V) that is not -100 is a caller bug validation cannot see: the
// row gets NaN loss and NaN gradient so it cannot pass unnoticed, and nothing
// is read out of bounds.
//
// One workgroup of 64 owns a row and loops over V (V may be 32000 or more):
// each invocation keeps an online (max, sum of exp) over its strided slice,
// then a tree reduction merges them; no exp ever overflows. backward reads the
// row twice (statistics, then the gradient) rather than storing them from
// forward. Ignored rows skip the statistics, which matters when most rows are
// prompt tokens.
//
// Bindings (entry points share slots; each uses its own names):
//   forward:  0 logits (read), 1 targets (read), 2 loss (write),    3 params
//   backward: 0 logits (read), 1 targets (read), 2 dlogits (write), 3 params
// Dispatch: N workgroups of 64, folded into y past the per-dimension limit;
// params.group_stride is the x extent in workgroups.

struct Params {
  rows: u32,
  vocab: u32,
  group_stride: u32,
  // WGSL cannot spell a NaN constant, so the host passes its bits.
  nan_bits: u32,
  // backward only.
  scale: f32,
}

const WG: u32 = 64u;
const IGNORE_INDEX: i32 = -100;
const LOWEST: f32 = -0x1.fffffep+127f;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> part_max: array<f32, WG>;
var<workgroup> part_sum: array<f32, WG>;
var<workgroup> row_target: i32;

// (max, sum of exp(x - max)) over the row, the same in every invocation.
fn row_stats(base: u32, lid: u32) -> vec2<f32> {
  var m = LOWEST;
  var s = 0.0;
  for (var j = lid; j < params.vocab; j += WG) {
    let x = logits[base + j];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  part_max[lid] = m;
  part_sum[lid] = s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) {
      let m1 = part_max[lid];
      let m2 = part_max[lid + half];
      let mm = max(m1, m2);
      part_sum[lid] = part_sum[lid] * exp(m1 - mm) + part_sum[lid + half] * exp(m2 - mm);
      part_max[lid] = mm;
    }
    workgroupBarrier();
  }
  return vec2<f32>(part_max[0], part_sum[0]);
}

// The row's target, loaded so that branching on it keeps barriers uniform.
fn load_target(row: u32, lid: u32) -> i32 {
  if (lid == 0u) {
    row_target = targets[row];
  }
  return workgroupUniformLoad(&row_target);
}

fn valid_target(t: i32) -> bool {
  return t >= 0 && u32(t) < params.vocab;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.group_stride;
  if (row >= params.rows) {
    return;
  }
  let t = load_target(row, lid);
  if (t == IGNORE_INDEX) {
    if (lid == 0u) {
      loss[row] = 0.0;
    }
    return;
  }
  let base = row * params.vocab;
  let stats = row_stats(base, lid);
  if (lid != 0u) {
    return;
  }
  if (valid_target(t)) {
    // Subtract first: max and the target logit may be large and close.
    loss[row] = (stats.x - logits[base + u32(t)]) + log(stats.y);
  } else {
    loss[row] = bitcast<f32>(params.nan_bits);
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.group_stride;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.vocab;
  let t = load_target(row, lid);
  if (t == IGNORE_INDEX) {
    for (var j = lid; j < params.vocab; j += WG) {
      dlogits[base + j] = 0.0;
    }
    return;
  }
  let stats = row_stats(base, lid);
  let inv_sum = 1.0 / stats.y;
  let valid = valid_target(t);
  for (var j = lid; j < params.vocab; j += WG) {
    let p = exp(logits[base + j] - stats.x) * inv_sum;
    let hit = select(0.0, 1.0, i32(j) == t);
    dlogits[base + j] = select(bitcast<f32>(params.nan_bits), (p - hit) * params.scale, valid);
  }
}
