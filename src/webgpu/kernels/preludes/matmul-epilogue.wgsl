// What the forward matmul modules (matmul.wgsl, matmul-vec4.wgsl,
// matmul-quant.wgsl) share: the uniform block (matmul-params.ts
// matmulUniforms), the epilogue overrides, the W rows and the 4-wide dot step
// of a register tile, and how a result reaches Y. Accumulation is f32 whatever the storage.
// Overrides: epilogue 0 none, 1 gelu (tanh), 2 silu, 3 add residual; has_bias.
// The kernel declares `alias elem` (its storage type, through wgslModule),
// bias and residual (array<elem>, read; never read while their override is
// off), y (array<elem>, read_write) and params: Params.

struct Params {
  m: u32,
  n: u32,
  k: u32,
  batch: u32,
  w_batch_stride: u32,
}

override epilogue: u32 = 0u;
override has_bias: bool = false;

// Columns of Y per invocation (and rows, in the 4x4 register tiles).
const TILE = 4u;

fn gelu_tanh(v: f32) -> f32 {
  // Some drivers compute tanh as a ratio of exponentials that overflows to
  // NaN; past |u| = 10 tanh is already +-1 in f32.
  let u = clamp(0.7978845608 * (v + 0.044715 * v * v * v), -10.0, 10.0);
  return 0.5 * v * (1.0 + tanh(u));
}

fn silu(v: f32) -> f32 {
  return v / (1.0 + exp(-v));
}

fn finish(acc: f32, out_index: u32, col: u32) -> elem {
  var v = acc;
  if (has_bias) {
    v += f32(bias[col]);
  }
  switch epilogue {
    case 1u: { v = gelu_tanh(v); }
    case 2u: { v = silu(v); }
    case 3u: { v += f32(residual[out_index]); }
    default: {}
  }
  return elem(v);
}

// Offsets of the 4 W rows of a tile starting at column col0, counted in
// vectors of `width` values (1, or 4 where K is a multiple of 4). Rows past
// the edge read the last row; store_row drops their results.
fn w_rows(col0: u32, b: u32, width: u32) -> array<u32, 4> {
  var r: array<u32, 4>;
  for (var j = 0u; j < TILE; j++) {
    r[j] = (b * params.w_batch_stride + min(col0 + j, params.n - 1u) * params.k) / width;
  }
  return r;
}

// One k-step of a register tile: x against each of four W rows.
fn dot4(xv: vec4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>) -> vec4<f32> {
  return vec4(dot(xv, w0), dot(xv, w1), dot(xv, w2), dot(xv, w3));
}

// Four adjacent columns of row `row` of batch item b. Tiles read clamped rows
// and columns past the edges of Y; those results are dropped here.
fn store_row(row: u32, col0: u32, b: u32, acc: vec4<f32>) {
  if (row >= params.m) {
    return;
  }
  for (var j = 0u; j < TILE; j++) {
    let col = col0 + j;
    if (col < params.n) {
      let out_index = (b * params.m + row) * params.n + col;
      y[out_index] = finish(acc[j], out_index, col);
    }
  }
}
