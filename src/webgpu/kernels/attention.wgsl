// Fused scaled dot-product attention with an online softmax: memory O(T), the
// T x S score matrix is never stored.
//   o[b, t, h, :] = sum_s softmax_s(scale * q[b, t, h, :] . k[b, s, g, :]) v[b, s, g, :]
// with g = h / (H / Hkv) (grouped-query attention). Key s is visible to query t
// when mask[b, s] != 0 (if has_mask) and, if causal, s <= q_offset + t, where
// q_offset is the absolute position of query 0 (S - T when appending to a cache).
// A query that sees no key gets zeros.
// Shapes: q [B, T, H, D]; k, v [B, S_cap, Hkv, D] (a KV cache of capacity S_cap,
// the first S rows valid); mask i32 [B, S_cap] (a 1-element dummy when unused);
// o [B, T, H, D]. D <= 128.
// Bindings: 0 q, 1 k, 2 v, 3 mask (read), 4 o (write), 5 params (uniform).
// Entry points:
//   attend_rows  - one invocation per (b, t, h) row, no workgroup memory and no
//                  barriers (fast on CPU-emulated adapters); dispatch
//                  ceil(B*T*H / ROWS_WG) groups of ROWS_WG, folded into y.
//   attend_block4 - for D % 4 == 0: four consecutive queries of one (b, h) per
//                  invocation, held in registers with vec4 loads, so every key
//                  and value loaded serves four queries, and keys come in pairs
//                  so the accumulators are rescaled once per two keys (measured
//                  1.3-1.5x faster on SwiftShader than one key at a time); HEAD_DIM (an override)
//                  fixes the loop bounds at pipeline creation. Dispatch
//                  ceil(B*H*ceil(T/4) / ROWS_WG) groups, folded into y.
//   attend_tile16 - in attention-tile.wgsl, joined to this module: 16 queries
//                  by 8 keys per step for CPU-emulated adapters (D <= 64).
//   attend_split - one workgroup of 32 lanes per row; lanes split the keys and
//                  merge their partial softmax states once (for decode, where
//                  B*T*H is too small to fill the device); dispatch B*T*H groups,
//                  folded into y.
// Preludes: attention-common (Params, bindings 0-3, D_MAX, kv_offset, mask_allows).

const LANES: u32 = 32u;
// Invocations per workgroup of attend_rows and attend_block4: small on CPU-emulated
// adapters, where one workgroup is one thread's work, 64 on GPUs.
override ROWS_WG: u32 = 64u;

@group(0) @binding(4) var<storage, read_write> o: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> part_m: array<f32, LANES>;
var<workgroup> part_l: array<f32, LANES>;
var<workgroup> part_acc: array<f32, 4096>; // LANES * D_MAX

struct Row {
  b: u32,
  t: u32,
  h: u32,
  q_base: u32,
  kv_head: u32,
  // Keys 0..visible-1 may be seen (before the padding mask).
  visible: u32,
}

fn row_of(r: u32) -> Row {
  let h = r % params.heads;
  let t = (r / params.heads) % params.t_len;
  let b = r / (params.heads * params.t_len);
  var visible = params.s_len;
  if (params.causal != 0u) {
    visible = min(params.s_len, params.q_offset + t + 1u);
  }
  let group = params.heads / params.kv_heads;
  return Row(b, t, h, r * params.head_dim, h / group, visible);
}

fn score(row: Row, kb: u32) -> f32 {
  var dot = 0.0;
  for (var d = 0u; d < params.head_dim; d++) {
    dot += q[row.q_base + d] * k[kb + d];
  }
  return dot * params.scale;
}

// Online softmax over keys first, first + step, ... of a row: returns the
// running max m and normaliser l, with acc holding the value rows weighted
// by exp(score - m).
fn attend_keys(row: Row, first: u32, step: u32, acc: ptr<function, array<f32, D_MAX>>) -> vec2<f32> {
  var m = -3.0e38;
  var l = 0.0;
  for (var s = first; s < row.visible; s += step) {
    if (!mask_allows(params, row.b, s)) {
      continue;
    }
    let kb = kv_offset(params, row.b, s, row.kv_head);
    let x = score(row, kb);
    let m_new = max(m, x);
    let keep = exp(m - m_new);
    let p = exp(x - m_new);
    l = l * keep + p;
    for (var d = 0u; d < params.head_dim; d++) {
      (*acc)[d] = (*acc)[d] * keep + p * v[kb + d];
    }
    m = m_new;
  }
  return vec2(m, l);
}

@compute @workgroup_size(ROWS_WG)
fn attend_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x + gid.y * params.row_stride;
  if (r >= params.batch * params.t_len * params.heads) {
    return;
  }
  let row = row_of(r);
  var acc: array<f32, D_MAX>;
  let ml = attend_keys(row, 0u, 1u, &acc);
  let inv = select(0.0, 1.0 / ml.y, ml.y > 0.0);
  for (var d = 0u; d < params.head_dim; d++) {
    o[row.q_base + d] = acc[d] * inv;
  }
}

@compute @workgroup_size(32)
fn attend_split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r = wid.x + wid.y * params.row_stride;
  let rows = params.batch * params.t_len * params.heads;
  // r is uniform across the workgroup, so every lane takes the same branch.
  if (r >= rows) {
    return;
  }
  let row = row_of(r);
  var acc: array<f32, D_MAX>;
  let ml = attend_keys(row, lane, LANES, &acc);
  part_m[lane] = ml.x;
  part_l[lane] = ml.y;
  for (var d = 0u; d < params.head_dim; d++) {
    part_acc[lane * D_MAX + d] = acc[d];
  }
  workgroupBarrier();
  var m_all = -3.0e38;
  for (var i = 0u; i < LANES; i++) {
    m_all = max(m_all, part_m[i]);
  }
  var l_all = 0.0;
  for (var i = 0u; i < LANES; i++) {
    l_all += part_l[i] * exp(part_m[i] - m_all);
  }
  let inv = select(0.0, 1.0 / l_all, l_all > 0.0);
  for (var d = lane; d < params.head_dim; d += LANES) {
    var sum = 0.0;
    for (var i = 0u; i < LANES; i++) {
      sum += part_acc[i * D_MAX + d] * exp(part_m[i] - m_all);
    }
    o[row.q_base + d] = sum * inv;
  }
}

override HEAD_DIM: u32 = 64u;
const D4_MAX: u32 = 32u;
const NEG_BIG: f32 = -3.0e38;

@group(0) @binding(0) var<storage, read> q4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> o4: array<vec4<f32>>;

const QB: u32 = 4u;

@compute @workgroup_size(ROWS_WG)
fn attend_block4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t_blocks = (params.t_len + QB - 1u) / QB;
  let i = gid.x + gid.y * params.row_stride;
  if (i >= params.batch * params.heads * t_blocks) {
    return;
  }
  let t0 = (i % t_blocks) * QB;
  let h = (i / t_blocks) % params.heads;
  let b = i / (t_blocks * params.heads);
  let d4 = HEAD_DIM / 4u;
  let g = h / (params.heads / params.kv_heads);
  let n_q = min(QB, params.t_len - t0);
  var qr: array<vec4<f32>, 128>;
  var acc: array<vec4<f32>, 128>;
  for (var j = 0u; j < QB; j++) {
    let tj = t0 + min(j, n_q - 1u);
    let qb = ((b * params.t_len + tj) * params.heads + h) * d4;
    for (var d = 0u; d < d4; d++) {
      qr[j * D4_MAX + d] = q4[qb + d] * params.scale;
    }
  }
  var limit = params.s_len;
  if (params.causal != 0u) {
    limit = min(params.s_len, params.q_offset + t0 + n_q);
  }
  var m = vec4<f32>(NEG_BIG);
  var l = vec4<f32>(0.0);
  // Keys in pairs: one rescale of the accumulators (and one fewer exp) per two keys.
  for (var s = 0u; s < limit; s += 2u) {
    let s1 = min(s + 1u, limit - 1u);
    let kb0 = ((b * params.s_cap + s) * params.kv_heads + g) * d4;
    let kb1 = ((b * params.s_cap + s1) * params.kv_heads + g) * d4;
    var x0 = vec4<f32>(0.0);
    var x1 = vec4<f32>(0.0);
    for (var d = 0u; d < d4; d++) {
      let k0 = k4[kb0 + d];
      let k1 = k4[kb1 + d];
      x0 += vec4<f32>(dot(qr[d], k0), dot(qr[D4_MAX + d], k0), dot(qr[2u * D4_MAX + d], k0), dot(qr[3u * D4_MAX + d], k0));
      x1 += vec4<f32>(dot(qr[d], k1), dot(qr[D4_MAX + d], k1), dot(qr[2u * D4_MAX + d], k1), dot(qr[3u * D4_MAX + d], k1));
    }
    let q_pos = vec4<u32>(params.q_offset + t0) + vec4<u32>(0u, 1u, 2u, 3u);
    var ok0 = vec4<bool>(params.has_mask == 0u || mask[b * params.s_cap + s] != 0);
    // The second key of the last pair may not exist (odd count): never let it count.
    var ok1 = vec4<bool>(s + 1u < limit && (params.has_mask == 0u || mask[b * params.s_cap + s1] != 0));
    if (params.causal != 0u) {
      ok0 = ok0 & (vec4<u32>(s) <= q_pos);
      ok1 = ok1 & (vec4<u32>(s + 1u) <= q_pos);
    }
    x0 = select(vec4<f32>(NEG_BIG), x0, ok0);
    x1 = select(vec4<f32>(NEG_BIG), x1, ok1);
    let m_new = max(m, max(x0, x1));
    let keep = exp(m - m_new);
    let p0 = select(vec4<f32>(0.0), exp(x0 - m_new), ok0);
    let p1 = select(vec4<f32>(0.0), exp(x1 - m_new), ok1);
    l = l * keep + p0 + p1;
    m = m_new;
    for (var d = 0u; d < d4; d++) {
      let v0 = v4[kb0 + d];
      let v1 = v4[kb1 + d];
      acc[d] = acc[d] * keep.x + p0.x * v0 + p1.x * v1;
      acc[D4_MAX + d] = acc[D4_MAX + d] * keep.y + p0.y * v0 + p1.y * v1;
      acc[2u * D4_MAX + d] = acc[2u * D4_MAX + d] * keep.z + p0.z * v0 + p1.z * v1;
      acc[3u * D4_MAX + d] = acc[3u * D4_MAX + d] * keep.w + p0.w * v0 + p1.w * v1;
    }
  }
  let inv = select(vec4<f32>(0.0), 1.0 / l, l > vec4<f32>(0.0));
  for (var j = 0u; j < n_q; j++) {
    let ob = ((b * params.t_len + t0 + j) * params.heads + h) * d4;
    for (var d = 0u; d < d4; d++) {
      o4[ob + d] = acc[j * D4_MAX + d] * inv[j];
    }
  }
}
