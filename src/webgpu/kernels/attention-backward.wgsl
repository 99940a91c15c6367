// Backward of attention.wgsl, recomputing the softmax instead of storing it.
// With P = softmax(scale * q k^T) per row, dP = dout v^T, delta_t = sum_s P_ts dP_ts:
//   dq_t = scale * sum_s P_ts (dP_ts - delta_t) k_s
//   dk_s = scale * sum_{t, h in group} P_ts (dP_ts - delta_t) q_t
//   dv_s = sum_{t, h in group} P_ts dout_t
// Same visibility rules (causal, q_offset, key-padding mask) as the forward.
// Shapes: q, dout, dq [B, T, H, D]; k, v, dk, dv [B, S_cap, Hkv, D] (rows past S
// get zero gradient); mask i32 [B, S_cap] (dummy when unused); stats [B, T, H, 2]
// holds (logsumexp, delta) per query row.
// Entry points (both barrier-free, one invocation per row, 64 per workgroup,
// dispatch ceil(rows / 64) folded into y):
//   backward_q  - rows = B*T*H. Bindings: 0 q, 1 k, 2 v, 3 mask, 4 dout (read),
//                 5 dq, 6 stats (write), 7 params.
//   backward_kv - rows = B*S_cap*Hkv. Bindings: 0 q, 1 k, 2 v, 3 mask, 4 dout,
//                 5 stats (read), 6 dk, 7 dv (write), 8 params.
// Preludes: attention-common (Params, bindings 0-3, D_MAX, kv_offset, mask_allows).

@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read_write> dq: array<f32>;
@group(0) @binding(6) var<storage, read_write> stats_out: array<f32>;
@group(0) @binding(7) var<uniform> params_q: Params;
@group(0) @binding(5) var<storage, read> stats_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;
@group(0) @binding(7) var<storage, read_write> dv: array<f32>;
@group(0) @binding(8) var<uniform> params_kv: Params;

fn dot_rows(a_base: u32, b_base: u32, n: u32, use_dout: bool, b_is_v: bool) -> f32 {
  var s = 0.0;
  for (var d = 0u; d < n; d++) {
    let x = select(q[a_base + d], dout[a_base + d], use_dout);
    let y = select(k[b_base + d], v[b_base + d], b_is_v);
    s += x * y;
  }
  return s;
}

fn visible(p: Params, b: u32, t: u32, s: u32) -> bool {
  if (s >= p.s_len) {
    return false;
  }
  if (p.causal != 0u && s > p.q_offset + t) {
    return false;
  }
  return mask_allows(p, b, s);
}

// P_ts and dS_ts = P_ts (dP_ts - delta_t) * scale of query row qb and key row
// kb, from the query row's logsumexp and delta.
fn prob_and_grad(p: Params, qb: u32, kb: u32, lse: f32, delta: f32) -> vec2<f32> {
  let pr = exp(dot_rows(qb, kb, p.head_dim, false, false) * p.scale - lse);
  return vec2(pr, pr * (dot_rows(qb, kb, p.head_dim, true, true) - delta) * p.scale);
}

@compute @workgroup_size(64)
fn backward_q(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = params_q;
  let r = gid.x + gid.y * p.row_stride;
  if (r >= p.batch * p.t_len * p.heads) {
    return;
  }
  let h = r % p.heads;
  let t = (r / p.heads) % p.t_len;
  let b = r / (p.heads * p.t_len);
  let g = h / (p.heads / p.kv_heads);
  let qb = r * p.head_dim;
  // Pass 1: running max m, normaliser l and sum of P * dP, rescaled together.
  var m = -3.0e38;
  var l = 0.0;
  var w = 0.0;
  for (var s = 0u; s < p.s_len; s++) {
    if (!visible(p, b, t, s)) {
      continue;
    }
    let kb = kv_offset(p, b, s, g);
    let x = dot_rows(qb, kb, p.head_dim, false, false) * p.scale;
    let dp = dot_rows(qb, kb, p.head_dim, true, true);
    let m_new = max(m, x);
    let keep = exp(m - m_new);
    let e = exp(x - m_new);
    l = l * keep + e;
    w = w * keep + e * dp;
    m = m_new;
  }
  let has_keys = l > 0.0;
  let lse = select(0.0, m + log(l), has_keys);
  let delta = select(0.0, w / l, has_keys);
  stats_out[r * 2u] = lse;
  stats_out[r * 2u + 1u] = delta;
  // Pass 2: dq.
  var acc: array<f32, D_MAX>;
  for (var s = 0u; s < p.s_len; s++) {
    if (!visible(p, b, t, s)) {
      continue;
    }
    let kb = kv_offset(p, b, s, g);
    let pg = prob_and_grad(p, qb, kb, lse, delta);
    for (var d = 0u; d < p.head_dim; d++) {
      acc[d] += pg.y * k[kb + d];
    }
  }
  for (var d = 0u; d < p.head_dim; d++) {
    dq[qb + d] = acc[d];
  }
}

@compute @workgroup_size(64)
fn backward_kv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = params_kv;
  let r = gid.x + gid.y * p.row_stride;
  if (r >= p.batch * p.s_cap * p.kv_heads) {
    return;
  }
  let g = r % p.kv_heads;
  let s = (r / p.kv_heads) % p.s_cap;
  let b = r / (p.kv_heads * p.s_cap);
  let kb = r * p.head_dim;
  let group = p.heads / p.kv_heads;
  var acc_k: array<f32, D_MAX>;
  var acc_v: array<f32, D_MAX>;
  for (var t = 0u; t < p.t_len; t++) {
    if (!visible(p, b, t, s)) {
      continue;
    }
    for (var j = 0u; j < group; j++) {
      let qr = (b * p.t_len + t) * p.heads + g * group + j;
      let qb = qr * p.head_dim;
      let pg = prob_and_grad(p, qb, kb, stats_in[qr * 2u], stats_in[qr * 2u + 1u]);
      for (var d = 0u; d < p.head_dim; d++) {
        acc_k[d] += pg.y * q[qb + d];
        acc_v[d] += pg.x * dout[qb + d];
      }
    }
  }
  for (var d = 0u; d < p.head_dim; d++) {
    dk[kb + d] = acc_k[d];
    dv[kb + d] = acc_v[d];
  }
}
