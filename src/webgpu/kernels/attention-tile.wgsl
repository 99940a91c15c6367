// attend_tile16: the forward of attention.wgsl (same result, shapes, bindings
// and params) for CPU-emulated adapters and head sizes D <= 64, D % 4 == 0.
// One invocation takes 16 consecutive queries of one (b, h), in four groups
// of 4 (a, b, c, d), and walks the keys 8 at a time:
//   scores  X = Q K^T for the 16 x 8 tile as mat4x4 products (rows are the
//           queries of a group, columns keys 0-3 (lo) or 4-7 (hi));
//   softmax one max and one rescale of the accumulators per 8 keys;
//   values  acc += V P^T, again as mat4x4 products.
// The loop over the head size is written out (16 steps of 4 lanes, each
// guarded by `step < D4`, a constant once the override HEAD_DIM is set), so
// every index into the private query and accumulator arrays is a constant.
// Why: SwiftShader runs 4 invocations in the lanes of one CPU thread and turns
// every dynamically indexed load or store (a storage buffer, or a private
// array indexed by a loop variable) into one scalar load per lane and
// component, which costs several times the arithmetic it feeds. With
// constant indices the query and accumulator arrays become plain values, and
// each key and value loaded serves 16 queries (attend_block4: 4). Measured on
// SwiftShader at T = S = 512, H = 12, D = 64: 8 queries per invocation took
// 1.6x the time of 16.
// Register use is far beyond a GPU's, so GPUs keep attend_block4; and since
// SwiftShader takes seconds to compile the written-out loops, attention.ts
// picks this entry point only for long runs of queries (T >= 256).
// Dispatch: ceil(B*H*ceil(T/16) / ROWS_WG) groups of ROWS_WG, folded into y.
// Uses from attention.wgsl: params, q4, k4, v4, o4, HEAD_DIM, ROWS_WG, NEG_BIG;
// from attention-common: mask.

const TILE_Q: u32 = 16u;
const TILE_K: u32 = 8u;
override D4: u32 = HEAD_DIM / 4u;

// One mat4x4 per group of 4 queries (a: queries 0-3, b: 4-7, c: 8-11, d: 12-15).
struct Quad {
  a: mat4x4<f32>,
  b: mat4x4<f32>,
  c: mat4x4<f32>,
  d: mat4x4<f32>,
}

// Per query of the tile: query 4j + r is component r of member j (a, b, c, d).
struct Offsets {
  a: vec4<u32>,
  b: vec4<u32>,
  c: vec4<u32>,
  d: vec4<u32>,
}

// The 16 x 8 tile of scores (or weights): keys 0-3 (lo) and 4-7 (hi).
struct Tile {
  lo: Quad,
  hi: Quad,
}

// Key s counts for the four queries at q_pos: below limit, allowed by the padding mask and, if causal, not after them.
fn keys_ok(b: u32, s: u32, limit: u32, q_pos: vec4<u32>) -> vec4<bool> {
  var ok = vec4<bool>(s < limit && (params.has_mask == 0u || mask[b * params.s_cap + min(s, limit - 1u)] != 0));
  if (params.causal != 0u) {
    ok = ok & (vec4<u32>(s) <= q_pos);
  }
  return ok;
}

// Columns (keys s..s+3) of x that the queries at q_pos may not see become NEG_BIG.
fn masked(x: mat4x4<f32>, b: u32, s: u32, limit: u32, q_pos: vec4<u32>) -> mat4x4<f32> {
  let neg = vec4<f32>(NEG_BIG);
  return mat4x4<f32>(
    select(neg, x[0], keys_ok(b, s, limit, q_pos)),
    select(neg, x[1], keys_ok(b, s + 1u, limit, q_pos)),
    select(neg, x[2], keys_ok(b, s + 2u, limit, q_pos)),
    select(neg, x[3], keys_ok(b, s + 3u, limit, q_pos)),
  );
}

fn masked_quad(x: Quad, b: u32, s: u32, limit: u32, pos: Offsets) -> Quad {
  return Quad(masked(x.a, b, s, limit, pos.a), masked(x.b, b, s, limit, pos.b), masked(x.c, b, s, limit, pos.c), masked(x.d, b, s, limit, pos.d));
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

fn probs_quad(x: Quad, m: mat4x4<f32>) -> Quad {
  return Quad(probs(x.a, m[0]), probs(x.b, m[1]), probs(x.c, m[2]), probs(x.d, m[3]));
}

fn transpose_quad(x: Quad) -> Quad {
  return Quad(transpose(x.a), transpose(x.b), transpose(x.c), transpose(x.d));
}

// Column j times f[j]: one factor per query.
fn scale_cols(a: mat4x4<f32>, f: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(a[0] * f.x, a[1] * f.y, a[2] * f.z, a[3] * f.w);
}

// Four query rows (vec4 offsets r) at step c, scaled; one matrix row per query.
fn load_q4(r: vec4<u32>, c: u32) -> mat4x4<f32> {
  return transpose(mat4x4<f32>(q4[r.x + c], q4[r.y + c], q4[r.z + c], q4[r.w + c])) * params.scale;
}

fn load_q(rows: Offsets, c: u32) -> Quad {
  return Quad(load_q4(rows.a, c), load_q4(rows.b, c), load_q4(rows.c, c), load_q4(rows.d, c));
}

fn qk_step(x: Tile, q: Quad, kb: vec4<u32>, kc: vec4<u32>, c: u32) -> Tile {
  let k_lo = mat4x4<f32>(k4[kb.x + c], k4[kb.y + c], k4[kb.z + c], k4[kb.w + c]);
  let k_hi = mat4x4<f32>(k4[kc.x + c], k4[kc.y + c], k4[kc.z + c], k4[kc.w + c]);
  return Tile(
    Quad(x.lo.a + q.a * k_lo, x.lo.b + q.b * k_lo, x.lo.c + q.c * k_lo, x.lo.d + q.d * k_lo),
    Quad(x.hi.a + q.a * k_hi, x.hi.b + q.b * k_hi, x.hi.c + q.c * k_hi, x.hi.d + q.d * k_hi),
  );
}

// acc (columns per query) rescaled by keep (column j for group j), plus the values at step c weighted by w (rows per key, columns per query).
fn pv_step(acc: Quad, keep: mat4x4<f32>, w: Tile, kb: vec4<u32>, kc: vec4<u32>, c: u32) -> Quad {
  let v_lo = mat4x4<f32>(v4[kb.x + c], v4[kb.y + c], v4[kb.z + c], v4[kb.w + c]);
  let v_hi = mat4x4<f32>(v4[kc.x + c], v4[kc.y + c], v4[kc.z + c], v4[kc.w + c]);
  return Quad(
    scale_cols(acc.a, keep[0]) + v_lo * w.lo.a + v_hi * w.hi.a,
    scale_cols(acc.b, keep[1]) + v_lo * w.lo.b + v_hi * w.hi.b,
    scale_cols(acc.c, keep[2]) + v_lo * w.lo.c + v_hi * w.hi.c,
    scale_cols(acc.d, keep[3]) + v_lo * w.lo.d + v_hi * w.hi.d,
  );
}

// Writes step c of the first n_q queries' outputs (vec4 offsets out).
fn store_step(acc: Quad, inv: mat4x4<f32>, out: Offsets, n_q: u32, c: u32) {
  let o = Quad(scale_cols(acc.a, inv[0]), scale_cols(acc.b, inv[1]), scale_cols(acc.c, inv[2]), scale_cols(acc.d, inv[3]));
  for (var r = 0u; r < 4u; r++) {
    if (r < n_q) { o4[out.a[r] + c] = o.a[r]; }
    if (4u + r < n_q) { o4[out.b[r] + c] = o.b[r]; }
    if (8u + r < n_q) { o4[out.c[r] + c] = o.c[r]; }
    if (12u + r < n_q) { o4[out.d[r] + c] = o.d[r]; }
  }
}

// vec4 offsets of query rows t of (b, h) in q and o.
fn row_offsets(b: u32, h: u32, t: vec4<u32>) -> vec4<u32> {
  return ((vec4<u32>(b * params.t_len) + t) * params.heads + h) * D4;
}

@compute @workgroup_size(ROWS_WG)
fn attend_tile16(@builtin(global_invocation_id) gid: vec3<u32>) {
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
  // Query 4j + r of the tile: its position among the keys, its vec4 offset in o, and in q (rows past
  // the last query repeat it; their results are never written).
  let tq = Offsets(vec4<u32>(t0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(t0) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(t0) + vec4<u32>(8u, 9u, 10u, 11u), vec4<u32>(t0) + vec4<u32>(12u, 13u, 14u, 15u));
  let pos = Offsets(tq.a + params.q_offset, tq.b + params.q_offset, tq.c + params.q_offset, tq.d + params.q_offset);
  let out = Offsets(row_offsets(b, h, tq.a), row_offsets(b, h, tq.b), row_offsets(b, h, tq.c), row_offsets(b, h, tq.d));
  let tl = vec4<u32>(t0 + n_q - 1u);
  let rows = Offsets(row_offsets(b, h, min(tq.a, tl)), row_offsets(b, h, min(tq.b, tl)), row_offsets(b, h, min(tq.c, tl)), row_offsets(b, h, min(tq.d, tl)));
  var qt: array<Quad, 16>;
  var acc: array<Quad, 16>;
  if (0u < D4) { qt[0] = load_q(rows, 0u); }
  if (1u < D4) { qt[1] = load_q(rows, 1u); }
  if (2u < D4) { qt[2] = load_q(rows, 2u); }
  if (3u < D4) { qt[3] = load_q(rows, 3u); }
  if (4u < D4) { qt[4] = load_q(rows, 4u); }
  if (5u < D4) { qt[5] = load_q(rows, 5u); }
  if (6u < D4) { qt[6] = load_q(rows, 6u); }
  if (7u < D4) { qt[7] = load_q(rows, 7u); }
  if (8u < D4) { qt[8] = load_q(rows, 8u); }
  if (9u < D4) { qt[9] = load_q(rows, 9u); }
  if (10u < D4) { qt[10] = load_q(rows, 10u); }
  if (11u < D4) { qt[11] = load_q(rows, 11u); }
  if (12u < D4) { qt[12] = load_q(rows, 12u); }
  if (13u < D4) { qt[13] = load_q(rows, 13u); }
  if (14u < D4) { qt[14] = load_q(rows, 14u); }
  if (15u < D4) { qt[15] = load_q(rows, 15u); }
  var limit = params.s_len;
  if (params.causal != 0u) {
    limit = min(params.s_len, params.q_offset + t0 + n_q);
  }
  let kv_row0 = b * params.s_cap * params.kv_heads + g;
  let last = limit - 1u;
  // Column j: the running max and normaliser of group j's queries.
  var m = mat4x4<f32>(vec4<f32>(NEG_BIG), vec4<f32>(NEG_BIG), vec4<f32>(NEG_BIG), vec4<f32>(NEG_BIG));
  var l = mat4x4<f32>();
  for (var s = 0u; s < limit; s += TILE_K) {
    // vec4 offsets of keys s..s+3 (kb) and s+4..s+7 (kc); keys past the last repeat it and are masked below.
    let kb = (vec4<u32>(kv_row0) + min(vec4<u32>(s) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last)) * params.kv_heads) * D4;
    let kc = (vec4<u32>(kv_row0) + min(vec4<u32>(s) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(last)) * params.kv_heads) * D4;
    let zero = Quad(mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>());
    var x = Tile(zero, zero);
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
    x = Tile(masked_quad(x.lo, b, s, limit, pos), masked_quad(x.hi, b, s + 4u, limit, pos));
    let m_new = mat4x4<f32>(
      max(m[0], max(col_max(x.lo.a), col_max(x.hi.a))),
      max(m[1], max(col_max(x.lo.b), col_max(x.hi.b))),
      max(m[2], max(col_max(x.lo.c), col_max(x.hi.c))),
      max(m[3], max(col_max(x.lo.d), col_max(x.hi.d))),
    );
    let keep = mat4x4<f32>(exp(m[0] - m_new[0]), exp(m[1] - m_new[1]), exp(m[2] - m_new[2]), exp(m[3] - m_new[3]));
    m = m_new;
    let p = Tile(probs_quad(x.lo, m_new), probs_quad(x.hi, m_new));
    l = mat4x4<f32>(
      l[0] * keep[0] + col_sum(p.lo.a) + col_sum(p.hi.a),
      l[1] * keep[1] + col_sum(p.lo.b) + col_sum(p.hi.b),
      l[2] * keep[2] + col_sum(p.lo.c) + col_sum(p.hi.c),
      l[3] * keep[3] + col_sum(p.lo.d) + col_sum(p.hi.d),
    );
    // Rows per key, columns per query: V (a column per key) times these weighs the values.
    let w = Tile(transpose_quad(p.lo), transpose_quad(p.hi));
    if (0u < D4) { acc[0] = pv_step(acc[0], keep, w, kb, kc, 0u); }
    if (1u < D4) { acc[1] = pv_step(acc[1], keep, w, kb, kc, 1u); }
    if (2u < D4) { acc[2] = pv_step(acc[2], keep, w, kb, kc, 2u); }
    if (3u < D4) { acc[3] = pv_step(acc[3], keep, w, kb, kc, 3u); }
    if (4u < D4) { acc[4] = pv_step(acc[4], keep, w, kb, kc, 4u); }
    if (5u < D4) { acc[5] = pv_step(acc[5], keep, w, kb, kc, 5u); }
    if (6u < D4) { acc[6] = pv_step(acc[6], keep, w, kb, kc, 6u); }
    if (7u < D4) { acc[7] = pv_step(acc[7], keep, w, kb, kc, 7u); }
    if (8u < D4) { acc[8] = pv_step(acc[8], keep, w, kb, kc, 8u); }
    if (9u < D4) { acc[9] = pv_step(acc[9], keep, w, kb, kc, 9u); }
    if (10u < D4) { acc[10] = pv_step(acc[10], keep, w, kb, kc, 10u); }
    if (11u < D4) { acc[11] = pv_step(acc[11], keep, w, kb, kc, 11u); }
    if (12u < D4) { acc[12] = pv_step(acc[12], keep, w, kb, kc, 12u); }
    if (13u < D4) { acc[13] = pv_step(acc[13], keep, w, kb, kc, 13u); }
    if (14u < D4) { acc[14] = pv_step(acc[14], keep, w, kb, kc, 14u); }
    if (15u < D4) { acc[15] = pv_step(acc[15], keep, w, kb, kc, 15u); }
  }
  let zero4 = vec4<f32>(0.0);
  let inv = mat4x4<f32>(
    select(zero4, 1.0 / l[0], l[0] > zero4),
    select(zero4, 1.0 / l[1], l[1] > zero4),
    select(zero4, 1.0 / l[2], l[2] > zero4),
    select(zero4, 1.0 / l[3], l[3] > zero4),
  );
  if (0u < D4) { store_step(acc[0], inv, out, n_q, 0u); }
  if (1u < D4) { store_step(acc[1], inv, out, n_q, 1u); }
  if (2u < D4) { store_step(acc[2], inv, out, n_q, 2u); }
  if (3u < D4) { store_step(acc[3], inv, out, n_q, 3u); }
  if (4u < D4) { store_step(acc[4], inv, out, n_q, 4u); }
  if (5u < D4) { store_step(acc[5], inv, out, n_q, 5u); }
  if (6u < D4) { store_step(acc[6], inv, out, n_q, 6u); }
  if (7u < D4) { store_step(acc[7], inv, out, n_q, 7u); }
  if (8u < D4) { store_step(acc[8], inv, out, n_q, 8u); }
  if (9u < D4) { store_step(acc[9], inv, out, n_q, 9u); }
  if (10u < D4) { store_step(acc[10], inv, out, n_q, 10u); }
  if (11u < D4) { store_step(acc[11], inv, out, n_q, 11u); }
  if (12u < D4) { store_step(acc[12], inv, out, n_q, 12u); }
  if (13u < D4) { store_step(acc[13], inv, out, n_q, 13u); }
  if (14u < D4) { store_step(acc[14], inv, out, n_q, 14u); }
  if (15u < D4) { store_step(acc[15], inv, out, n_q, 15u); }
}
