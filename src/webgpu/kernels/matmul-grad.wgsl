// Strided batched matmul for the backward of Y = X W^T (+ bias):
// C[b, i, j] = sum_r A[b * a_batch + i * a_row + r * a_depth]
//                  * B[b * b_batch + j * b_col + r * b_depth].
// The strides pick the layout, so one module serves both gradients:
//   dX [Bt, M, K] = dY [Bt, M, N] W [N, K]: i = m, j = k, r = n.
//   dW [N, K] = dY^T X summed over the batch: i = n, j = k, r = every row of
//   every batch item (or per batch item when W is [Bt, N, K]).
// Shapes in params: rows (I), cols (J), depth (R), batch; C is [batch, I, J].
// Entry points are the variants:
//   blocked: each invocation keeps a 4x4 tile of C in registers; no workgroup
//            memory, no barriers (the fast kind on CPU-emulated WebGPU).
//   tiled:   8x8 invocations share 32 x 16 slabs of A and B in workgroup
//            memory (the fast kind on real GPUs); each slab is read along
//            whichever of its dimensions has unit stride, so loads coalesce.
// Override `accumulate` (0 or 1): 1 adds the product to what c holds
// (c += A B^T) instead of overwriting it, so gradients of one step sum over
// its sequences, or over the paths into one input (dX += dH A for LoRA),
// without a separate add. Each element is owned by one invocation: no races.
// Bindings: 0 a (read), 1 b (read), 2 c (read_write), 3 params (uniform).
// Dispatch: (ceil(J / 32), ceil(I / 32), batch).

struct Params {
  rows: u32,
  cols: u32,
  depth: u32,
  batch: u32,
  a_row: u32,
  a_depth: u32,
  a_batch: u32,
  b_col: u32,
  b_depth: u32,
  b_batch: u32,
}

override accumulate: u32 = 0u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const TILE = 4u;
const TILE_R = 16u;
const SLAB = 32u;
// Slab rows padded to 17 floats so invocations reading one depth column of a
// slab hit different banks.
const PITCH = 17u;
var<workgroup> a_slab: array<f32, 544>;
var<workgroup> b_slab: array<f32, 544>;

fn store_tile(i0: u32, j0: u32, bt: u32, acc: array<vec4<f32>, 4>) {
  for (var i = 0u; i < TILE; i++) {
    for (var j = 0u; j < TILE; j++) {
      if (i0 + i < params.rows && j0 + j < params.cols) {
        let at = (bt * params.rows + i0 + i) * params.cols + j0 + j;
        if (accumulate == 1u) {
          c[at] += acc[i][j];
        } else {
          c[at] = acc[i][j];
        }
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn blocked(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i0 = gid.y * TILE;
  let j0 = gid.x * TILE;
  let bt = gid.z;
  if (i0 >= params.rows || j0 >= params.cols) {
    return;
  }
  // Rows past the edge read the last row; their sums are never stored.
  var ar: array<u32, 4>;
  var br: array<u32, 4>;
  for (var t = 0u; t < TILE; t++) {
    ar[t] = bt * params.a_batch + min(i0 + t, params.rows - 1u) * params.a_row;
    br[t] = bt * params.b_batch + min(j0 + t, params.cols - 1u) * params.b_col;
  }
  var acc: array<vec4<f32>, 4>;
  for (var r = 0u; r < params.depth; r++) {
    let ad = r * params.a_depth;
    let bd = r * params.b_depth;
    let bv = vec4(b[br[0] + bd], b[br[1] + bd], b[br[2] + bd], b[br[3] + bd]);
    for (var i = 0u; i < TILE; i++) {
      acc[i] += a[ar[i] + ad] * bv;
    }
  }
  store_tile(i0, j0, bt, acc);
}

// Slab coordinates (row of the slab, depth) of element e of 512: along depth
// when depth has unit stride, else along the rows.
fn slab_coord(e: u32, depth_stride: u32) -> vec2<u32> {
  if (depth_stride == 1u) {
    return vec2(e / TILE_R, e % TILE_R);
  }
  return vec2(e % SLAB, e / SLAB);
}

@compute @workgroup_size(8, 8)
fn tiled(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let i_base = wid.y * SLAB;
  let j_base = wid.x * SLAB;
  let bt = wid.z;
  var acc: array<vec4<f32>, 4>;
  for (var r0 = 0u; r0 < params.depth; r0 += TILE_R) {
    // 64 invocations stage 32 x 16 values of each slab, 8 apiece; values past
    // an edge are 0 so they add nothing.
    for (var e = li; e < SLAB * TILE_R; e += 64u) {
      let ac = slab_coord(e, params.a_depth);
      var av = 0.0;
      if (i_base + ac.x < params.rows && r0 + ac.y < params.depth) {
        av = a[bt * params.a_batch + (i_base + ac.x) * params.a_row + (r0 + ac.y) * params.a_depth];
      }
      a_slab[ac.x * PITCH + ac.y] = av;
      let bc = slab_coord(e, params.b_depth);
      var bv = 0.0;
      if (j_base + bc.x < params.cols && r0 + bc.y < params.depth) {
        bv = b[bt * params.b_batch + (j_base + bc.x) * params.b_col + (r0 + bc.y) * params.b_depth];
      }
      b_slab[bc.x * PITCH + bc.y] = bv;
    }
    workgroupBarrier();
    for (var r = 0u; r < TILE_R; r++) {
      let b_at = lid.x * TILE * PITCH + r;
      let bv = vec4(b_slab[b_at], b_slab[b_at + PITCH], b_slab[b_at + 2u * PITCH], b_slab[b_at + 3u * PITCH]);
      for (var i = 0u; i < TILE; i++) {
        acc[i] += a_slab[(lid.y * TILE + i) * PITCH + r] * bv;
      }
    }
    workgroupBarrier();
  }
  store_tile(i_base + lid.y * TILE, j_base + lid.x * TILE, bt, acc);
}
