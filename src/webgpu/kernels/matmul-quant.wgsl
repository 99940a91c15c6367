// Matmul with int8 or int4 weights, dequantized in registers:
// Y[b, m, n] = epilogue(sum_g scale[n, g] * sum_{k in g} X[b, m, k] * q[n, k] + bias[n]).
// Shapes (kernel.ts letters): X [Bt, M, K] (Bt folded into M by the host);
// W packed [N, K * bits / 32] u32 as written by quant.ts (element k in word
// k / (32 / bits) at bit (k % (32 / bits)) * bits, two's complement); scales
// [N, K / group_size]; bias [N]; residual and Y [Bt, M, N]. K is a multiple of
// group_size, itself a multiple of 8, so X is read as vec4 and a word never
// straddles two groups.
// Entry points are the variants:
//   blocked: each invocation keeps a 4x4 tile of Y in registers; no workgroup
//            memory, no barriers (the fast kind on CPU-emulated WebGPU).
//   matvec:  each invocation computes 4 adjacent columns of one row (decode).
// Overrides: bits 8 or 4; group_size; epilogue 0 none, 1 gelu (tanh), 2 silu,
//            3 add residual; has_bias.
// Bindings: 0 x, 1 wq, 2 scales, 3 bias, 4 residual (read; 3 and 4 are never
//           read when their override is off), 5 y (write), 6 params (uniform).
// Dispatch: blocked (ceil(N / 32), ceil(M / 32), 1); matvec (ceil(N / 256), M, 1).
// Preludes: matmul-epilogue (Params, the epilogue and has_bias overrides,
// TILE, finish, dot4, store_row), with elem = f32.

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> wq: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

override bits: u32 = 8u;
override group_size: u32 = 32u;
// vec4 chunks per packed word (1 for int8, 2 for int4) and words per group.
override chunks: u32 = 8u / bits;
override group_words: u32 = group_size * bits / 32u;

// Chunk c of a packed word as 4 signed values: shifting the field to the top
// of an i32 and arithmetic-shifting it back down sign-extends it.
fn unpack(word: u32, c: u32) -> vec4<f32> {
  let v = bitcast<i32>(word);
  if (bits == 8u) {
    return vec4<f32>(vec4(v << 24u, v << 16u, v << 8u, v) >> vec4(24u));
  }
  let s = 16u * (1u - c);
  return vec4<f32>(vec4(v << (s + 12u), v << (s + 8u), v << (s + 4u), v << s) >> vec4(28u));
}

// Clamped W rows of a 4-column tile: columns past the edge are computed, not stored.
fn clamped_col(col0: u32, j: u32) -> u32 {
  return min(col0 + j, params.n - 1u);
}

@compute @workgroup_size(8, 8)
fn blocked(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TILE;
  let col0 = gid.x * TILE;
  if (row0 >= params.m || col0 >= params.n) {
    return;
  }
  let k4 = params.k / 4u;
  let groups = params.k / group_size;
  var xr: array<u32, 4>;
  var wr: array<u32, 4>;
  var sr: array<u32, 4>;
  for (var i = 0u; i < TILE; i++) {
    xr[i] = min(row0 + i, params.m - 1u) * k4;
    wr[i] = clamped_col(col0, i) * groups * group_words;
    sr[i] = clamped_col(col0, i) * groups;
  }
  var acc: array<vec4<f32>, 4>;
  for (var g = 0u; g < groups; g++) {
    // Integer weights summed over the group, scaled once at its end. The
    // explicit zero matters: with Dawn's compiler (seen on SwiftShader and
    // lavapipe) a bare `var` in a loop body keeps the last iteration's value.
    var part = array<vec4<f32>, 4>();
    for (var wi = 0u; wi < group_words; wi++) {
      let word = g * group_words + wi;
      let q = vec4(wq[wr[0] + word], wq[wr[1] + word], wq[wr[2] + word], wq[wr[3] + word]);
      for (var c = 0u; c < chunks; c++) {
        let w0 = unpack(q.x, c);
        let w1 = unpack(q.y, c);
        let w2 = unpack(q.z, c);
        let w3 = unpack(q.w, c);
        for (var i = 0u; i < TILE; i++) {
          let xv = x[xr[i] + word * chunks + c];
          part[i] += dot4(xv, w0, w1, w2, w3);
        }
      }
    }
    let s = vec4(scales[sr[0] + g], scales[sr[1] + g], scales[sr[2] + g], scales[sr[3] + g]);
    for (var i = 0u; i < TILE; i++) {
      acc[i] += part[i] * s;
    }
  }
  // Quantized W is shared by the batch, which the host folds into M: b is 0.
  for (var i = 0u; i < TILE; i++) {
    store_row(row0 + i, col0, 0u, acc[i]);
  }
}

@compute @workgroup_size(64)
fn matvec(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * TILE;
  let row = gid.y;
  if (col0 >= params.n || row >= params.m) {
    return;
  }
  let groups = params.k / group_size;
  let xr = row * (params.k / 4u);
  var wr: array<u32, 4>;
  var sr: array<u32, 4>;
  for (var j = 0u; j < TILE; j++) {
    wr[j] = clamped_col(col0, j) * groups * group_words;
    sr[j] = clamped_col(col0, j) * groups;
  }
  var acc = vec4<f32>();
  for (var g = 0u; g < groups; g++) {
    var part = vec4<f32>();
    for (var wi = 0u; wi < group_words; wi++) {
      let word = g * group_words + wi;
      let q = vec4(wq[wr[0] + word], wq[wr[1] + word], wq[wr[2] + word], wq[wr[3] + word]);
      for (var c = 0u; c < chunks; c++) {
        let xv = x[xr + word * chunks + c];
        part += dot4(xv, unpack(q.x, c), unpack(q.y, c), unpack(q.z, c), unpack(q.w, c));
      }
    }
    acc += part * vec4(scales[sr[0] + g], scales[sr[1] + g], scales[sr[2] + g], scales[sr[3] + g]);
  }
  store_row(row, col0, 0u, acc);
}
