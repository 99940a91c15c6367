// attend_tile8: the forward of attention.wgsl (same result, shapes, bindings
// and params) for CPU-emulated adapters and head sizes D <= 64, D % 4 == 0.
// One invocation takes 8 consecutive queries of one (b, h) and walks the keys
// 8 at a time:
//   scores  X = Q K^T for the 8 x 8 block, as four mat4x4 (queries 0-3 and
//           4-7 by keys 0-3 and 4-7), one column per key;
//   softmax one max and one rescale of the accumulators per 8 keys;
//   values  acc += V P^T, again as mat4x4 products.
// The loop over the head size is written out (16 steps of 4 lanes, each
// guarded by `step < D4`, which the override HEAD_DIM makes a constant), so
// every index into the private query and accumulator arrays is a constant.
// Why: SwiftShader turns a dynamically indexed private array into per-lane
// memory gathers and scatters, which cost several times the arithmetic they
// feed; with constant indices the arrays become plain values. Every key and
// value loaded serves 8 queries (attend_block4: 4). Measured on SwiftShader
// at T = S = 1024, H = 12, D = 64 (bench:kernels --set smolvlm).
// Register use is far beyond a GPU's, so GPUs keep attend_block4.
// Dispatch: ceil(B*H*ceil(T/8) / ROWS_WG) groups of ROWS_WG, folded into y.
// Uses from attention.wgsl: params, q4, k4, v4, o4, HEAD_DIM, ROWS_WG, NEG_BIG;
// from attention-common: mask.

const TILE_Q: u32 = 8u;
const TILE_K: u32 = 8u;
override D4: u32 = HEAD_DIM / 4u;

// Queries 0-3 (a) and 4-7 (b) of a tile at one step of 4 lanes of D.
struct Pair {
  a: mat4x4<f32>,
  b: mat4x4<f32>,
}

// Scores of the tile: rows are queries, columns keys (lo: keys 0-3, hi: 4-7).
struct Scores {
  a_lo: mat4x4<f32>,
  a_hi: mat4x4<f32>,
  b_lo: mat4x4<f32>,
  b_hi: mat4x4<f32>,
}

// Key s counts for the four queries at q_pos: below limit, allowed by the padding mask and, if causal, not after them.
fn keys_ok(b: u32, s: u32, limit: u32, q_pos: vec4<u32>) -> vec4<bool> {
  var ok = vec4<bool>(s < limit && (params.has_mask == 0u || mask[b * params.s_cap + min(s, limit - 1u)] != 0));
  if (params.causal != 0u) {
    ok = ok & (vec4<u32>(s) <= q_pos);
  }
  return ok;
}

// Columns (keys s..s+3) of x that no query may see become NEG_BIG.
fn masked(x: mat4x4<f32>, b: u32, s: u32, limit: u32, q_pos: vec4<u32>) -> mat4x4<f32> {
  let neg = vec4<f32>(NEG_BIG);
  return mat4x4<f32>(
    select(neg, x[0], keys_ok(b, s, limit, q_pos)),
    select(neg, x[1], keys_ok(b, s + 1u, limit, q_pos)),
    select(neg, x[2], keys_ok(b, s + 2u, limit, q_pos)),
    select(neg, x[3], keys_ok(b, s + 3u, limit, q_pos)),
  );
}

fn col_max(x: mat4x4<f32>) -> vec4<f32> {
  return max(max(x[0], x[1]), max(x[2], x[3]));
}

fn col_sum(x: mat4x4<f32>) -> vec4<f32> {
  return (x[0] + x[1]) + (x[2] + x[3]);
}

// exp(x - m) per column, 0 where the key was masked (so a query that sees nothing keeps l = 0).
fn probs(x: mat4x4<f32>, m: vec4<f32>) -> mat4x4<f32> {
  let z = vec4<f32>(0.0);
  let neg = vec4<f32>(NEG_BIG);
  return mat4x4<f32>(
    select(z, exp(x[0] - m), x[0] > neg),
    select(z, exp(x[1] - m), x[1] > neg),
    select(z, exp(x[2] - m), x[2] > neg),
    select(z, exp(x[3] - m), x[3] > neg),
  );
}

// Column j times f[j]: one factor per query.
fn scale_cols(a: mat4x4<f32>, f: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(a[0] * f.x, a[1] * f.y, a[2] * f.z, a[3] * f.w);
}

// Four query rows (vec4 offsets qb) at step c, scaled, one row per query.
fn load_q(qb: vec4<u32>, c: u32) -> mat4x4<f32> {
  return transpose(mat4x4<f32>(q4[qb.x + c], q4[qb.y + c], q4[qb.z + c], q4[qb.w + c])) * params.scale;
}

fn qk_step(x: Scores, q: Pair, kb: vec4<u32>, kc: vec4<u32>, c: u32) -> Scores {
  let k_lo = mat4x4<f32>(k4[kb.x + c], k4[kb.y + c], k4[kb.z + c], k4[kb.w + c]);
  let k_hi = mat4x4<f32>(k4[kc.x + c], k4[kc.y + c], k4[kc.z + c], k4[kc.w + c]);
  return Scores(x.a_lo + q.a * k_lo, x.a_hi + q.a * k_hi, x.b_lo + q.b * k_lo, x.b_hi + q.b * k_hi);
}

// acc (columns per query) rescaled by keep, plus the values at step c weighted by w (rows per key, columns per query).
fn pv_step(acc: Pair, keep_a: vec4<f32>, keep_b: vec4<f32>, w: Scores, kb: vec4<u32>, kc: vec4<u32>, c: u32) -> Pair {
  let v_lo = mat4x4<f32>(v4[kb.x + c], v4[kb.y + c], v4[kb.z + c], v4[kb.w + c]);
  let v_hi = mat4x4<f32>(v4[kc.x + c], v4[kc.y + c], v4[kc.z + c], v4[kc.w + c]);
  return Pair(scale_cols(acc.a, keep_a) + v_lo * w.a_lo + v_hi * w.a_hi, scale_cols(acc.b, keep_b) + v_lo * w.b_lo + v_hi * w.b_hi);
}

// Writes step c of the n_q valid queries' outputs (vec4 offsets oa, ob).
fn store_step(acc: Pair, inv_a: vec4<f32>, inv_b: vec4<f32>, oa: vec4<u32>, ob: vec4<u32>, n_q: u32, c: u32) {
  let a = scale_cols(acc.a, inv_a);
  let b = scale_cols(acc.b, inv_b);
  o4[oa.x + c] = a[0];
  if (n_q > 1u) { o4[oa.y + c] = a[1]; }
  if (n_q > 2u) { o4[oa.z + c] = a[2]; }
  if (n_q > 3u) { o4[oa.w + c] = a[3]; }
  if (n_q > 4u) { o4[ob.x + c] = b[0]; }
  if (n_q > 5u) { o4[ob.y + c] = b[1]; }
  if (n_q > 6u) { o4[ob.z + c] = b[2]; }
  if (n_q > 7u) { o4[ob.w + c] = b[3]; }
}

@compute @workgroup_size(ROWS_WG)
fn attend_tile8(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t_tiles = (params.t_len + TILE_Q - 1u) / TILE_Q;
  let i = gid.x + gid.y * params.row_stride;
  if (i >= params.batch * params.heads * t_tiles) {
    return;
  }
  let t0 = (i % t_tiles) * TILE_Q;
  let h = (i / t_tiles) % params.heads;
  let b = i / (t_tiles * params.heads);
  let g = h / (params.heads / params.kv_heads);
  let n_q = min(TILE_Q, params.t_len - t0);
  // Rows past the last query repeat it (their results are never written).
  let rows_a = (vec4<u32>(b * params.t_len + t0) + min(vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(n_q - 1u))) * params.heads + h;
  let rows_b = (vec4<u32>(b * params.t_len + t0) + min(vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(n_q - 1u))) * params.heads + h;
  var qt: array<Pair, 16>;
  var acc: array<Pair, 16>;
  if (0u < D4) { qt[0] = Pair(load_q(rows_a * D4, 0u), load_q(rows_b * D4, 0u)); }
  if (1u < D4) { qt[1] = Pair(load_q(rows_a * D4, 1u), load_q(rows_b * D4, 1u)); }
  if (2u < D4) { qt[2] = Pair(load_q(rows_a * D4, 2u), load_q(rows_b * D4, 2u)); }
  if (3u < D4) { qt[3] = Pair(load_q(rows_a * D4, 3u), load_q(rows_b * D4, 3u)); }
  if (4u < D4) { qt[4] = Pair(load_q(rows_a * D4, 4u), load_q(rows_b * D4, 4u)); }
  if (5u < D4) { qt[5] = Pair(load_q(rows_a * D4, 5u), load_q(rows_b * D4, 5u)); }
  if (6u < D4) { qt[6] = Pair(load_q(rows_a * D4, 6u), load_q(rows_b * D4, 6u)); }
  if (7u < D4) { qt[7] = Pair(load_q(rows_a * D4, 7u), load_q(rows_b * D4, 7u)); }
  if (8u < D4) { qt[8] = Pair(load_q(rows_a * D4, 8u), load_q(rows_b * D4, 8u)); }
  if (9u < D4) { qt[9] = Pair(load_q(rows_a * D4, 9u), load_q(rows_b * D4, 9u)); }
  if (10u < D4) { qt[10] = Pair(load_q(rows_a * D4, 10u), load_q(rows_b * D4, 10u)); }
  if (11u < D4) { qt[11] = Pair(load_q(rows_a * D4, 11u), load_q(rows_b * D4, 11u)); }
  if (12u < D4) { qt[12] = Pair(load_q(rows_a * D4, 12u), load_q(rows_b * D4, 12u)); }
  if (13u < D4) { qt[13] = Pair(load_q(rows_a * D4, 13u), load_q(rows_b * D4, 13u)); }
  if (14u < D4) { qt[14] = Pair(load_q(rows_a * D4, 14u), load_q(rows_b * D4, 14u)); }
  if (15u < D4) { qt[15] = Pair(load_q(rows_a * D4, 15u), load_q(rows_b * D4, 15u)); }
  var limit = params.s_len;
  if (params.causal != 0u) {
    limit = min(params.s_len, params.q_offset + t0 + n_q);
  }
  let pos_a = vec4<u32>(params.q_offset + t0) + vec4<u32>(0u, 1u, 2u, 3u);
  let pos_b = pos_a + vec4<u32>(4u);
  let kv_row0 = b * params.s_cap * params.kv_heads + g;
  let last = limit - 1u;
  var m_a = vec4<f32>(NEG_BIG);
  var m_b = vec4<f32>(NEG_BIG);
  var l_a = vec4<f32>(0.0);
  var l_b = vec4<f32>(0.0);
  for (var s = 0u; s < limit; s += TILE_K) {
    // vec4 offsets of keys s..s+3 (kb) and s+4..s+7 (kc); keys past the last repeat it and are masked below.
    let kb = (vec4<u32>(kv_row0) + min(vec4<u32>(s) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last)) * params.kv_heads) * D4;
    let kc = (vec4<u32>(kv_row0) + min(vec4<u32>(s) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(last)) * params.kv_heads) * D4;
    var x = Scores(mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>());
    if (0u < D4) { x = qk_step(x, qt[0], kb, kc, 0u); }
    if (1u < D4) { x = qk_step(x, qt[1], kb, kc, 1u); }
    if (2u < D4) { x = qk_step(x, qt[2], kb, kc, 2u); }
    if (3u < D4) { x = qk_step(x, qt[3], kb, kc, 3u); }
    if (4u < D4) { x = qk_step(x, qt[4], kb, kc, 4u); }
    if (5u < D4) { x = qk_step(x, qt[5], kb, kc, 5u); }
    if (6u < D4) { x = qk_step(x, qt[6], kb, kc, 6u); }
    if (7u < D4) { x = qk_step(x, qt[7], kb, kc, 7u); }
    if (8u < D4) { x = qk_step(x, qt[8], kb, kc, 8u); }
    if (9u < D4) { x = qk_step(x, qt[9], kb, kc, 9u); }
    if (10u < D4) { x = qk_step(x, qt[10], kb, kc, 10u); }
    if (11u < D4) { x = qk_step(x, qt[11], kb, kc, 11u); }
    if (12u < D4) { x = qk_step(x, qt[12], kb, kc, 12u); }
    if (13u < D4) { x = qk_step(x, qt[13], kb, kc, 13u); }
    if (14u < D4) { x = qk_step(x, qt[14], kb, kc, 14u); }
    if (15u < D4) { x = qk_step(x, qt[15], kb, kc, 15u); }
    x = Scores(masked(x.a_lo, b, s, limit, pos_a), masked(x.a_hi, b, s + 4u, limit, pos_a), masked(x.b_lo, b, s, limit, pos_b), masked(x.b_hi, b, s + 4u, limit, pos_b));
    let mn_a = max(m_a, max(col_max(x.a_lo), col_max(x.a_hi)));
    let mn_b = max(m_b, max(col_max(x.b_lo), col_max(x.b_hi)));
    let keep_a = exp(m_a - mn_a);
    let keep_b = exp(m_b - mn_b);
    m_a = mn_a;
    m_b = mn_b;
    let p = Scores(probs(x.a_lo, mn_a), probs(x.a_hi, mn_a), probs(x.b_lo, mn_b), probs(x.b_hi, mn_b));
    l_a = l_a * keep_a + col_sum(p.a_lo) + col_sum(p.a_hi);
    l_b = l_b * keep_b + col_sum(p.b_lo) + col_sum(p.b_hi);
    let w = Scores(transpose(p.a_lo), transpose(p.a_hi), transpose(p.b_lo), transpose(p.b_hi));
    if (0u < D4) { acc[0] = pv_step(acc[0], keep_a, keep_b, w, kb, kc, 0u); }
    if (1u < D4) { acc[1] = pv_step(acc[1], keep_a, keep_b, w, kb, kc, 1u); }
    if (2u < D4) { acc[2] = pv_step(acc[2], keep_a, keep_b, w, kb, kc, 2u); }
    if (3u < D4) { acc[3] = pv_step(acc[3], keep_a, keep_b, w, kb, kc, 3u); }
    if (4u < D4) { acc[4] = pv_step(acc[4], keep_a, keep_b, w, kb, kc, 4u); }
    if (5u < D4) { acc[5] = pv_step(acc[5], keep_a, keep_b, w, kb, kc, 5u); }
    if (6u < D4) { acc[6] = pv_step(acc[6], keep_a, keep_b, w, kb, kc, 6u); }
    if (7u < D4) { acc[7] = pv_step(acc[7], keep_a, keep_b, w, kb, kc, 7u); }
    if (8u < D4) { acc[8] = pv_step(acc[8], keep_a, keep_b, w, kb, kc, 8u); }
    if (9u < D4) { acc[9] = pv_step(acc[9], keep_a, keep_b, w, kb, kc, 9u); }
    if (10u < D4) { acc[10] = pv_step(acc[10], keep_a, keep_b, w, kb, kc, 10u); }
    if (11u < D4) { acc[11] = pv_step(acc[11], keep_a, keep_b, w, kb, kc, 11u); }
    if (12u < D4) { acc[12] = pv_step(acc[12], keep_a, keep_b, w, kb, kc, 12u); }
    if (13u < D4) { acc[13] = pv_step(acc[13], keep_a, keep_b, w, kb, kc, 13u); }
    if (14u < D4) { acc[14] = pv_step(acc[14], keep_a, keep_b, w, kb, kc, 14u); }
    if (15u < D4) { acc[15] = pv_step(acc[15], keep_a, keep_b, w, kb, kc, 15u); }
  }
  let inv_a = select(vec4<f32>(0.0), 1.0 / l_a, l_a > vec4<f32>(0.0));
  let inv_b = select(vec4<f32>(0.0), 1.0 / l_b, l_b > vec4<f32>(0.0));
  // Output rows of queries t0..t0+7; store_step writes only the first n_q.
  let oa = ((vec4<u32>(b * params.t_len + t0) + vec4<u32>(0u, 1u, 2u, 3u)) * params.heads + h) * D4;
  let ob = oa + vec4<u32>(4u * params.heads * D4);
  if (0u < D4) { store_step(acc[0], inv_a, inv_b, oa, ob, n_q, 0u); }
  if (1u < D4) { store_step(acc[1], inv_a, inv_b, oa, ob, n_q, 1u); }
  if (2u < D4) { store_step(acc[2], inv_a, inv_b, oa, ob, n_q, 2u); }
  if (3u < D4) { store_step(acc[3], inv_a, inv_b, oa, ob, n_q, 3u); }
  if (4u < D4) { store_step(acc[4], inv_a, inv_b, oa, ob, n_q, 4u); }
  if (5u < D4) { store_step(acc[5], inv_a, inv_b, oa, ob, n_q, 5u); }
  if (6u < D4) { store_step(acc[6], inv_a, inv_b, oa, ob, n_q, 6u); }
  if (7u < D4) { store_step(acc[7], inv_a, inv_b, oa, ob, n_q, 7u); }
  if (8u < D4) { store_step(acc[8], inv_a, inv_b, oa, ob, n_q, 8u); }
  if (9u < D4) { store_step(acc[9], inv_a, inv_b, oa, ob, n_q, 9u); }
  if (10u < D4) { store_step(acc[10], inv_a, inv_b, oa, ob, n_q, 10u); }
  if (11u < D4) { store_step(acc[11], inv_a, inv_b, oa, ob, n_q, 11u); }
  if (12u < D4) { store_step(acc[12], inv_a, inv_b, oa, ob, n_q, 12u); }
  if (13u < D4) { store_step(acc[13], inv_a, inv_b, oa, ob, n_q, 13u); }
  if (14u < D4) { store_step(acc[14], inv_a, inv_b, oa, ob, n_q, 14u); }
  if (15u < D4) { store_step(acc[15], inv_a, inv_b, oa, ob, n_q, 15u); }
}
