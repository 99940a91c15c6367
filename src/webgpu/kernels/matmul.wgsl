// Matmul with f32 accumulation, any K, storage f32 or f16:
// Y[b, m, n] = elem(epilogue(sum_k X[b, m, k] * W[n, k] + bias[n])).
// One body, three modules: wgslModule declares `alias elem = f32` (spec matmul),
// `enable f16; alias elem = f16` (spec matmul-f16) or elem = f32 with W's
// `alias welem = f16` (spec matmul-w16: f16 weights, f32 activations); the
// f16 ones are built only for devices with shader-f16. W is read through
// welem (= elem unless set). Products of two f16 values are exact in f32, so the only
// roundings beyond the f32 sum are the inputs' own and the one of Y to elem.
// Shapes (kernel.ts letters): X [Bt, M, K]; W [N, K] shared by every batch item
// (w_batch_stride = 0, and the host folds Bt into M) or [Bt, N, K]
// (w_batch_stride = N * K); bias [N]; residual and Y [Bt, M, N]; f16 operands
// are tightly packed (two per 32-bit word).
// Entry points are the variants:
//   blocked: each invocation keeps a 4x4 tile of Y in registers; no workgroup
//            memory, no barriers (the fast kind on CPU-emulated WebGPU).
//   tiled:   8x8 invocations share 32 x 16 slabs of X and W, widened to f32,
//            through workgroup memory (the fast kind on real GPUs).
//   matvec:  each invocation computes 4 adjacent columns of one row (decode).
// Overrides: epilogue 0 none, 1 gelu (tanh), 2 silu, 3 add residual; has_bias.
// Bindings: 0 x, 1 w, 2 bias, 3 residual (read; 2 and 3 are never read when
//           their override is off), 4 y (write), 5 params (uniform).
// Dispatch: blocked and tiled (ceil(N / 32), ceil(M / 32), Bt);
//           matvec (ceil(N / 256), M, Bt).
// Preludes: matmul-epilogue (Params, overrides, TILE, finish, w_rows, dot4,
// store_row).

@group(0) @binding(0) var<storage, read> x: array<elem>;
@group(0) @binding(1) var<storage, read> w: array<welem>;
@group(0) @binding(2) var<storage, read> bias: array<elem>;
@group(0) @binding(3) var<storage, read> residual: array<elem>;
@group(0) @binding(4) var<storage, read_write> y: array<elem>;
@group(0) @binding(5) var<uniform> params: Params;

// K values staged per step in tiled; slab rows are padded to 17 floats so the
// invocations reading one column of a slab hit different banks.
const TILE_K = 16u;
const PITCH = 17u;
const SLAB_ROWS = 32u;
var<workgroup> x_slab: array<f32, 544>;
var<workgroup> w_slab: array<f32, 544>;

fn store_tile(row0: u32, col0: u32, b: u32, acc: array<vec4<f32>, 4>) {
  for (var i = 0u; i < TILE; i++) {
    store_row(row0 + i, col0, b, acc[i]);
  }
}

// Four consecutive values as one f32 vector, so the inner loops use dot().
fn x4(i: u32) -> vec4<f32> {
  return vec4<f32>(vec4(x[i], x[i + 1u], x[i + 2u], x[i + 3u]));
}

fn w4(i: u32) -> vec4<f32> {
  return vec4<f32>(vec4(w[i], w[i + 1u], w[i + 2u], w[i + 3u]));
}

@compute @workgroup_size(8, 8)
fn blocked(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TILE;
  let col0 = gid.x * TILE;
  let b = gid.z;
  if (row0 >= params.m || col0 >= params.n) {
    return;
  }
  var xr: array<u32, 4>;
  for (var i = 0u; i < TILE; i++) {
    xr[i] = (b * params.m + min(row0 + i, params.m - 1u)) * params.k;
  }
  let wr = w_rows(col0, b, 1u);
  var acc: array<vec4<f32>, 4>;
  let k4 = params.k & ~3u;
  for (var kk = 0u; kk < k4; kk += 4u) {
    let w0 = w4(wr[0] + kk);
    let w1 = w4(wr[1] + kk);
    let w2 = w4(wr[2] + kk);
    let w3 = w4(wr[3] + kk);
    for (var i = 0u; i < TILE; i++) {
      let xv = x4(xr[i] + kk);
      acc[i] += dot4(xv, w0, w1, w2, w3);
    }
  }
  for (var kk = k4; kk < params.k; kk++) {
    let wv = vec4<f32>(vec4(w[wr[0] + kk], w[wr[1] + kk], w[wr[2] + kk], w[wr[3] + kk]));
    for (var i = 0u; i < TILE; i++) {
      acc[i] += f32(x[xr[i] + kk]) * wv;
    }
  }
  store_tile(row0, col0, b, acc);
}

@compute @workgroup_size(8, 8)
fn tiled(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let row_base = wid.y * SLAB_ROWS;
  let col_base = wid.x * SLAB_ROWS;
  let b = wid.z;
  let x_base = b * params.m * params.k;
  let w_base = b * params.w_batch_stride;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < params.k; k0 += TILE_K) {
    // 64 invocations stage 32 x 16 values of each slab, 8 apiece, reading runs
    // of 16 consecutive k; values past an edge are 0 so they add nothing.
    for (var e = 0u; e < 8u; e++) {
      let idx = li + e * 64u;
      let r = idx / TILE_K;
      let c = idx % TILE_K;
      let kk = k0 + c;
      var xv = 0.0;
      var wv = 0.0;
      if (row_base + r < params.m && kk < params.k) {
        xv = f32(x[x_base + (row_base + r) * params.k + kk]);
      }
      if (col_base + r < params.n && kk < params.k) {
        wv = f32(w[w_base + (col_base + r) * params.k + kk]);
      }
      x_slab[r * PITCH + c] = xv;
      w_slab[r * PITCH + c] = wv;
    }
    workgroupBarrier();
    for (var c = 0u; c < TILE_K; c++) {
      let w_at = lid.x * TILE * PITCH + c;
      let wv = vec4(w_slab[w_at], w_slab[w_at + PITCH], w_slab[w_at + 2u * PITCH], w_slab[w_at + 3u * PITCH]);
      for (var i = 0u; i < TILE; i++) {
        acc[i] += x_slab[(lid.y * TILE + i) * PITCH + c] * wv;
      }
    }
    workgroupBarrier();
  }
  store_tile(row_base + lid.y * TILE, col_base + lid.x * TILE, b, acc);
}

@compute @workgroup_size(64)
fn matvec(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * TILE;
  let row = gid.y;
  let b = gid.z;
  if (col0 >= params.n || row >= params.m) {
    return;
  }
  let xr = (b * params.m + row) * params.k;
  let wr = w_rows(col0, b, 1u);
  var acc = vec4<f32>();
  let k4 = params.k & ~3u;
  for (var kk = 0u; kk < k4; kk += 4u) {
    let xv = x4(xr + kk);
    acc += dot4(xv, w4(wr[0] + kk), w4(wr[1] + kk), w4(wr[2] + kk), w4(wr[3] + kk));
  }
  for (var kk = k4; kk < params.k; kk++) {
    acc += f32(x[xr + kk]) * vec4<f32>(vec4(w[wr[0] + kk], w[wr[1] + kk], w[wr[2] + kk], w[wr[3] + kk]));
  }
  store_row(row, col0, b, acc);
}
