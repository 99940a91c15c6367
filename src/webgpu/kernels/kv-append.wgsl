// Appends new key or value rows to a cache at a position:
//   cache[b, pos + t, :] = rows[b, t, :]   for t < T_new
// Shapes: rows [B, T_new, W] with W = Hkv * D; cache [B, S_cap, W].
// Bindings: 0 rows (read), 1 cache (read_write: earlier rows are kept), 2 params.
// Dispatch: ceil(B * T_new * W / 64) groups of 64, folded into y.

struct Params {
  batch: u32,
  t_new: u32,
  width: u32,
  s_cap: u32,
  pos: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> rows: array<f32>;
@group(0) @binding(1) var<storage, read_write> cache: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.row_stride;
  if (i >= params.batch * params.t_new * params.width) {
    return;
  }
  let c = i % params.width;
  let t = (i / params.width) % params.t_new;
  let b = i / (params.width * params.t_new);
  cache[(b * params.s_cap + params.pos + t) * params.width + c] = rows[i];
}
