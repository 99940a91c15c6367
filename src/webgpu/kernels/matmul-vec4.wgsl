// Matmul, f32, K a multiple of 4, with vec4 loads along K:
// Y[b, m, n] = epilogue(sum_k X[b, m, k] * W[n, k] + bias[n]).
// Shapes (kernel.ts letters): X [Bt, M, K]; W [N, K] shared (w_batch_stride 0,
// Bt folded into M by the host) or [Bt, N, K] (w_batch_stride N * K);
// bias [N]; residual and Y [Bt, M, N]. k4 = K / 4 vectors per row.
// Entry points are the variants:
//   blocked: each invocation keeps a 16x4 tile of Y in registers (each W
//            vector loaded serves 16 rows); no workgroup memory, no barriers
//            (the fast kind on CPU-emulated WebGPU). A workgroup of 8 x 2
//            covers the same 32 x 32 tile as the other variants. Measured on
//            SwiftShader: 16x4 beat 8x4 by ~10% and 4x4 by ~35%.
//   matvec:  each invocation computes 4 adjacent columns of one row (decode).
// Overrides: epilogue 0 none, 1 gelu (tanh), 2 silu, 3 add residual; has_bias.
// Bindings: 0 x, 1 w (vec4 rows), 2 bias, 3 residual (read; 2 and 3 are never
//           read when their override is off), 4 y (write), 5 params (uniform).
// Dispatch: blocked (ceil(N / 32), ceil(M / 32), Bt); matvec (ceil(N / 256), M, Bt).
// Preludes: matmul-epilogue (Params, overrides, TILE, finish, w_rows, dot4,
// store_row), with elem = f32.

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// Rows of Y per blocked invocation.
const ROWS = 16u;

@compute @workgroup_size(8, 2)
fn blocked(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * ROWS;
  let col0 = gid.x * TILE;
  let b = gid.z;
  if (row0 >= params.m || col0 >= params.n) {
    return;
  }
  let k4 = params.k / 4u;
  var xr: array<u32, ROWS>;
  for (var i = 0u; i < ROWS; i++) {
    xr[i] = (b * params.m + min(row0 + i, params.m - 1u)) * k4;
  }
  let wr = w_rows(col0, b, 4u);
  var acc: array<vec4<f32>, ROWS>;
  for (var kk = 0u; kk < k4; kk++) {
    let w0 = w[wr[0] + kk];
    let w1 = w[wr[1] + kk];
    let w2 = w[wr[2] + kk];
    let w3 = w[wr[3] + kk];
    for (var i = 0u; i < ROWS; i++) {
      let xv = x[xr[i] + kk];
      acc[i] += dot4(xv, w0, w1, w2, w3);
    }
  }
  for (var i = 0u; i < ROWS; i++) {
    store_row(row0 + i, col0, b, acc[i]);
  }
}

@compute @workgroup_size(64)
fn matvec(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * TILE;
  let row = gid.y;
  let b = gid.z;
  if (col0 >= params.n || row >= params.m) {
    return;
  }
  let k4 = params.k / 4u;
  let xr = (b * params.m + row) * k4;
  let wr = w_rows(col0, b, 4u);
  var acc = vec4<f32>();
  for (var kk = 0u; kk < k4; kk++) {
    let xv = x[xr + kk];
    acc += dot4(xv, w[wr[0] + kk], w[wr[1] + kk], w[wr[2] + kk], w[wr[3] + kk]);
  }
  store_row(row, col0, b, acc);
}
