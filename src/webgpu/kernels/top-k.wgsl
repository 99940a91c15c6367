// The k largest values of each row and their indices, for top-k / top-p
// sampling on the host.
//   values[n, r], indices[n, r] = the r-th entry of row n ranked by value
//   descending, ties broken by lower index first (a total order, so the
//   result is unique and matches a stable descending sort).
// NaN values give an unspecified ranking (WGSL does not promise NaN comparisons).
//
// Shapes: x [N, V] f32, values [N, k] f32, indices [N, k] i32, 1 <= k <= min(64, V).
// One workgroup of 32 owns a row. Each invocation keeps a sorted top-k of
// its strided slice in private memory (an insertion that most elements skip
// after one compare), then the 32 lists are merged pairwise in a tree of
// 5 levels: few barriers, which software rasterisers charge heavily for, and
// 32 * 64 candidates fit in 16 KiB of workgroup memory.
// Bindings: 0 x (read), 1 values (write), 2 indices (write), 3 params (uniform).
// Dispatch: N workgroups of 32, folded into y past the per-dimension limit;
// params.group_stride is the x extent in workgroups.
// Preludes: ranking (better, NONE marking an empty slot).

struct Params {
  rows: u32,
  vocab: u32,
  k: u32,
  group_stride: u32,
}

const WG: u32 = 32u;
const MAX_K: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
@group(0) @binding(3) var<uniform> params: Params;

// List t occupies [t * MAX_K, t * MAX_K + k).
var<workgroup> list_v: array<f32, WG * MAX_K>;
var<workgroup> list_i: array<u32, WG * MAX_K>;

// The invocation's own sorted list, and scratch for merges.
var<private> top_v: array<f32, MAX_K>;
var<private> top_i: array<u32, MAX_K>;

// Sorted top-k of x[base + j] for j = lid, lid + WG, ... into top_v/top_i.
fn scan_slice(base: u32, lid: u32) {
  let k = params.k;
  for (var r = 0u; r < k; r++) {
    top_i[r] = NONE;
  }
  for (var j = lid; j < params.vocab; j += WG) {
    let v = x[base + j];
    if (!better(v, j, top_v[k - 1u], top_i[k - 1u])) {
      continue;
    }
    var pos = k - 1u;
    while (pos > 0u && better(v, j, top_v[pos - 1u], top_i[pos - 1u])) {
      top_v[pos] = top_v[pos - 1u];
      top_i[pos] = top_i[pos - 1u];
      pos--;
    }
    top_v[pos] = v;
    top_i[pos] = j;
  }
}

// Merge sorted lists a and b (workgroup offsets) keeping the best k, into list a.
fn merge_into(a: u32, b: u32) {
  let k = params.k;
  var ia = 0u;
  var ib = 0u;
  for (var r = 0u; r < k; r++) {
    let take_a = ib >= k || (ia < k && !better(list_v[b + ib], list_i[b + ib], list_v[a + ia], list_i[a + ia]));
    if (take_a) {
      top_v[r] = list_v[a + ia];
      top_i[r] = list_i[a + ia];
      ia++;
    } else {
      top_v[r] = list_v[b + ib];
      top_i[r] = list_i[b + ib];
      ib++;
    }
  }
  for (var r = 0u; r < k; r++) {
    list_v[a + r] = top_v[r];
    list_i[a + r] = top_i[r];
  }
}

@compute @workgroup_size(WG)
fn top_k(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.group_stride;
  if (row >= params.rows) {
    return;
  }
  let k = params.k;
  scan_slice(row * params.vocab, lid);
  for (var r = 0u; r < k; r++) {
    list_v[lid * MAX_K + r] = top_v[r];
    list_i[lid * MAX_K + r] = top_i[r];
  }
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) {
      merge_into(lid * MAX_K, (lid + half) * MAX_K);
    }
    workgroupBarrier();
  }
  // k <= V, so list 0 holds no empty slot.
  for (var r = lid; r < k; r += WG) {
    values[row * k + r] = list_v[r];
    indices[row * k + r] = i32(list_i[r]);
  }
}
