// Index of the largest value in each row: out[n] = argmax over v of x[n, v].
// Ties go to the lowest index, as torch.argmax. A row of NaNs gives an
// unspecified index (WGSL does not promise NaN comparisons).
//
// Shapes: x [N, V] f32, out [N] i32.
// One workgroup of 64 owns a row: each invocation scans a strided slice, then
// a tree reduction picks the winner; V may be 32000 or more.
// Bindings: 0 x (read), 1 out (write), 2 params (uniform).
// Dispatch: N workgroups of 64, folded into y past the per-dimension limit;
// params.group_stride is the x extent in workgroups.
// Preludes: ranking (better, NONE: "nothing seen yet", so a row of -inf
// still yields a real index).

struct Params {
  rows: u32,
  vocab: u32,
  group_stride: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;

@compute @workgroup_size(WG)
fn argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.group_stride;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.vocab;
  var v = 0.0;
  var i = NONE;
  for (var j = lid; j < params.vocab; j += WG) {
    let xj = x[base + j];
    if (better(xj, j, v, i)) {
      v = xj;
      i = j;
    }
  }
  best_v[lid] = v;
  best_i[lid] = i;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half && better(best_v[lid + half], best_i[lid + half], best_v[lid], best_i[lid])) {
      best_v[lid] = best_v[lid + half];
      best_i[lid] = best_i[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[row] = i32(best_i[0]);
  }
}
